/* klbook explorer part: the KL-regularised optimum (chapter 8).
 * State {log_beta}: pi*(y) = pi_ref(y) exp(R(y)/beta) / Z, drawn as bars next to pi_ref, and the
 * point (KL(pi* || pi_ref), E[R]) moving along the reward-KL frontier stored in the spec. */
register("policy", function (K) {
  "use strict";

  function prepare(spec) {
    var n = spec.pi_ref.length, s = new K.Sum(), i;
    for (i = 0; i < n; i++) s.add(spec.pi_ref[i]);
    var tot = s.value(), lref = new Float64Array(n);
    for (i = 0; i < n; i++) lref[i] = Math.log(spec.pi_ref[i] / tot);
    return { spec: spec, n: n, lref: lref };
  }

  /** The Gibbs policy for beta, in log space: log pi = log pi_ref + R/beta - log Z. */
  function gibbs(lref, reward, beta) {
    var n = lref.length, l = new Float64Array(n), m = -Infinity, i;
    for (i = 0; i < n; i++) { l[i] = lref[i] + reward[i] / beta; if (l[i] > m) m = l[i]; }
    var z = new K.Sum();
    for (i = 0; i < n; i++) z.add(Math.exp(l[i] - m));
    var logZshift = m + Math.log(z.value()), pi = new Float64Array(n), lpi = new Float64Array(n);
    for (i = 0; i < n; i++) { lpi[i] = l[i] - logZshift; pi[i] = Math.exp(lpi[i]); }
    return { pi: pi, lpi: lpi, logZ: logZshift };
  }

  function values(ctx, beta) {
    var spec = ctx.spec, g = gibbs(ctx.lref, spec.reward, beta), n = ctx.n, i;
    var kl = new K.Sum(), rew = new K.Sum(), ev = new K.Sum();
    for (i = 0; i < n; i++) {
      kl.add(g.pi[i] * (g.lpi[i] - ctx.lref[i]));
      rew.add(g.pi[i] * spec.reward[i]);
      if (spec.eval_reward) ev.add(g.pi[i] * spec.eval_reward[i]);
    }
    var klv = Math.max(0, kl.value()), r = rew.value();
    var out = { beta: beta, kl: klv, reward: r, objective: r - beta * klv, pi: g.pi };
    if (spec.eval_reward) out.eval_reward = ev.value();
    return out;
  }

  function compute(ctx, state) { return values(ctx, Math.pow(10, state.log_beta)); }

  function build(ex, body) {
    var spec = ex.spec, W = ex.W, n = spec.pi_ref.length, i;
    var top = 34, h1 = 170, gap = ex.narrow ? 74 : 52, h2 = 170, H = top + h1 + gap + h2 + 46;
    var svg = K.svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": spec.figure_label, "class": "kx-svg" }, body);
    K.svgEl("title", null, svg).textContent = spec.figure_label;
    ex.svg = svg;
    // bars: pi_ref outlined, pi* filled
    var box = { x: 62, y: top, w: W - 80, h: h1 };
    var P = new K.Panel(svg, box, 0, n, "probability", "");
    P.noXLabels = true;
    P.setY(0, 1);
    ex.bars = [];
    var slot = box.w / n, bw = Math.min(34, slot * 0.34);
    for (i = 0; i < n; i++) {
      var cx = box.x + slot * (i + 0.5);
      var rref = K.svgEl("rect", { x: (cx - bw - 1).toFixed(2), width: bw.toFixed(2), "class": "kx-ref kx-ref-forward" }, P.plot);
      var h = spec.pi_ref[i] * box.h;
      rref.setAttribute("y", (box.y + box.h - h).toFixed(2));
      rref.setAttribute("height", h.toFixed(2));
      var rpi = K.svgEl("rect", { x: (cx + 1).toFixed(2), width: bw.toFixed(2), "class": "kx-bar-p" }, P.plot);
      ex.bars.push(rpi);
      var lab = K.svgEl("text", { x: cx.toFixed(2), y: box.y + box.h + 15, "class": "kx-tick",
        "text-anchor": ex.narrow ? "end" : "middle" }, svg);
      if (ex.narrow) lab.setAttribute("transform", "rotate(-35 " + cx.toFixed(2) + " " + (box.y + box.h + 15) + ")");
      lab.textContent = spec.labels[i];
    }
    ex.barPanel = P;
    K.legend(svg, box.x + box.w - 8, 14, [["kx-ref kx-ref-forward", "π_ref"], ["kx-bar-p", "π* at this β", "rect"]], { right: true });
    // the frontier
    var f = spec.frontier, kmax = K.maxOf(f.kl) * 1.04 || 1;
    var ys = f.reward.slice();
    if (f.eval_reward) ys = ys.concat(f.eval_reward);
    var ylo = K.minOf(ys), yhi = K.maxOf(ys), pad = 0.06 * (yhi - ylo || 1);
    var box2 = { x: 62, y: top + h1 + gap, w: W - 80, h: h2 };
    var F = new K.Panel(svg, box2, 0, kmax, "expected reward", "KL(π* ‖ π_ref), nats");
    F.setY(ylo - pad, yhi + pad);
    K.svgEl("path", { d: F.path(f.kl, f.reward), "class": "kx-q" }, F.plot);
    var items = [["kx-q", "E[R], optimised"]];
    if (f.eval_reward) {
      K.svgEl("path", { d: F.path(f.kl, f.eval_reward), "class": "kx-p" }, F.plot);
      items.push(["kx-p", "E[R_true]"]);
      ex.dotEval = K.svgEl("circle", { r: 5.5, "class": "kx-bar-p kx-dot" }, F.plot);
    }
    ex.dotReward = K.svgEl("circle", { r: 5.5, "class": "kx-bar-q kx-dot" }, F.plot);
    // lower left: the curves start at the top left and leave it empty below (the dots never go there)
    K.legend(svg, box2.x + 10, box2.y + box2.h - 12 - 16 * (items.length - 1), items);
    ex.front = F;
  }

  function draw(ex, v) {
    var P = ex.barPanel, b = P.box;
    for (var i = 0; i < ex.bars.length; i++) {
      var h = Math.min(1, v.pi[i]) * b.h;
      ex.bars[i].setAttribute("y", (b.y + b.h - h).toFixed(2));
      ex.bars[i].setAttribute("height", h.toFixed(2));
    }
    var F = ex.front, x = F.sx(v.kl).toFixed(2);
    ex.dotReward.setAttribute("cx", x);
    ex.dotReward.setAttribute("cy", F.sy(v.reward).toFixed(2));
    if (ex.dotEval) {
      ex.dotEval.setAttribute("cx", x);
      ex.dotEval.setAttribute("cy", F.sy(v.eval_reward).toFixed(2));
    }
  }

  function controlText(ex, c) {
    if (c.param !== "log_beta") return null;
    var beta = Math.pow(10, ex.state.log_beta);
    return { shown: beta, text: "β = " + K.fmt(beta, beta < 0.1 ? 3 : 2) };
  }

  return { prepare: prepare, compute: compute, build: build, draw: draw, controlText: controlText,
    exports: { gibbsPolicy: function (ctx, beta) { return Array.prototype.slice.call(gibbs(ctx.lref, ctx.spec.reward, beta).pi); } } };
});
