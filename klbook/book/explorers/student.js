/* klbook explorer part: distillation (chapter 8).
 * State {w_index, t_index}: the student softmax(features . theta) that klbook fitted for that
 * objective (forward KL, GKD's JSD weight, reverse KL) and temperature, drawn over the teacher. */
register("student", function (K) {
  "use strict";

  function prepare(spec) {
    var n = spec.teacher.length, s = new K.Sum(), i;
    for (i = 0; i < n; i++) s.add(spec.teacher[i]);
    var tot = s.value(), lp = new Float64Array(n);
    for (i = 0; i < n; i++) lp[i] = Math.log(spec.teacher[i] / tot);
    return { spec: spec, n: n, lp: lp };
  }

  /** log softmax(features . theta). */
  function studentLog(features, theta) {
    var n = features.length, z = new Float64Array(n), m = -Infinity, i, j;
    for (i = 0; i < n; i++) {
      var acc = 0;
      for (j = 0; j < theta.length; j++) acc += features[i][j] * theta[j];
      z[i] = acc;
      if (acc > m) m = acc;
    }
    var s = new K.Sum();
    for (i = 0; i < n; i++) s.add(Math.exp(z[i] - m));
    var c = m + Math.log(s.value());
    for (i = 0; i < n; i++) z[i] -= c;
    return z;
  }

  function compute(ctx, state) {
    var spec = ctx.spec, theta = spec.thetas[state.w_index][state.t_index];
    var lq = studentLog(spec.features, theta), n = ctx.n, i;
    var fwd = new K.Sum(), rev = new K.Sum(), rare = new K.Sum(), q = new Float64Array(n);
    for (i = 0; i < n; i++) {
      var pi = Math.exp(ctx.lp[i]);
      q[i] = Math.exp(lq[i]);
      fwd.add(pi * (ctx.lp[i] - lq[i]));
      rev.add(q[i] * (lq[i] - ctx.lp[i]));
      if (pi < spec.rare) rare.add(q[i]);
    }
    return { forward: Math.max(0, fwd.value()), reverse: Math.max(0, rev.value()), rare_mass: rare.value(), q: q };
  }

  function build(ex, body) {
    var spec = ex.spec, W = ex.W, n = spec.teacher.length, i;
    var top = 34, h1 = 200, H = top + h1 + (ex.narrow ? 60 : 46);
    var svg = K.svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": spec.figure_label, "class": "kx-svg" }, body);
    K.svgEl("title", null, svg).textContent = spec.figure_label;
    var box = { x: 62, y: top, w: W - 80, h: h1 };
    var P = new K.Panel(svg, box, 0, n, "probability", "");
    P.noXLabels = true;
    var ymax = Math.min(1, Math.max(0.6, K.maxOf(spec.teacher) * 1.2));
    P.setY(0, ymax);
    var slot = box.w / n, bw = Math.min(22, slot * 0.4);
    ex.bars = [];
    for (i = 0; i < n; i++) {
      var cx = box.x + slot * (i + 0.5), h = Math.min(ymax, spec.teacher[i]) / ymax * box.h;
      K.svgEl("rect", { x: (cx - bw - 1).toFixed(2), width: bw.toFixed(2), y: (box.y + box.h - h).toFixed(2),
        height: h.toFixed(2), "class": "kx-ref kx-ref-forward" }, P.plot);
      ex.bars.push(K.svgEl("rect", { x: (cx + 1).toFixed(2), width: bw.toFixed(2), "class": "kx-bar-q" }, P.plot));
      var ly = box.y + box.h + 14;
      var lab = K.svgEl("text", { x: cx.toFixed(2), y: ly, "class": "kx-tick", "text-anchor": "end",
        transform: "rotate(-40 " + cx.toFixed(2) + " " + ly + ")" }, svg);
      lab.textContent = spec.labels[i];
    }
    ex.ymax = ymax;
    ex.panel = P;
    K.legend(svg, box.x + box.w - 8, 14, [["kx-ref kx-ref-forward", "teacher p"], ["kx-bar-q", "student q (deployed at T = 1)", "rect"]], { right: true });
  }

  function draw(ex, v) {
    var b = ex.panel.box;
    for (var i = 0; i < ex.bars.length; i++) {
      var h = Math.min(ex.ymax, v.q[i]) / ex.ymax * b.h;
      ex.bars[i].setAttribute("y", (b.y + b.h - h).toFixed(2));
      ex.bars[i].setAttribute("height", h.toFixed(2));
    }
  }

  function controlText(ex, c) {
    var spec = ex.spec;
    if (c.param === "w_index") {
      var w = spec.weights[ex.state.w_index];
      var text = w === 0 ? "forward KL (standard KD)" : w === 1 ? "reverse KL (on-policy)" : "GKD JSD, ω = " + K.fmt(w, 2);
      return { shown: w, text: text };
    }
    if (c.param === "t_index") {
      var t = spec.temperatures[ex.state.t_index];
      return { shown: t, text: "T = " + K.fmt(t, 2) };
    }
    return null;
  }

  return { prepare: prepare, compute: compute, build: build, draw: draw, controlText: controlText };
});
