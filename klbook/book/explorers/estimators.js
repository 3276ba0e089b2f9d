/* klbook explorer part: Monte Carlo estimators k1, k2, k3 of KL(p || q), p = N(0, 1), q = N(mu, 1) (chapter 5).
 * State {mu, n_index, reps}. The draws come from a seeded mulberry32 stream (the same numbers as
 * klbook.book.explorers.estimators.normal_draws), so the page is deterministic until the reader moves. */
register("estimators", function (K) {
  "use strict";
  var uniform = K.uniform;

  /** reps x n standard normal draws (Box-Muller), replicate j at stream positions 2(j*stride + i), +1. */
  function normalDraws(seed, n, reps, stride) {
    var z = new Float64Array(n * reps), j, i, k;
    for (j = 0; j < reps; j++) {
      for (i = 0; i < n; i++) {
        k = j * stride + i;
        var u1 = uniform(seed, 2 * k), u2 = uniform(seed, 2 * k + 1);
        z[j * n + i] = Math.sqrt(-2 * Math.log1p(-u1)) * Math.cos(2 * Math.PI * u2);
      }
    }
    return z;
  }

  /** Exact bias and sd of ONE per-sample value, for log r ~ N(-mu^2/2, mu^2):
   *  k1: bias 0, sd mu;  k2: bias mu^4/8, sd sqrt(mu^4/2 + mu^6/4);  k3: bias 0, sd sqrt(e^(mu^2) - 1 - mu^2). */
  function exactMoments(mu) {
    var m2 = mu * mu;
    return {
      k1: [0, mu],
      k2: [m2 * m2 / 8, Math.sqrt(m2 * m2 / 2 + m2 * m2 * m2 / 4)],
      k3: [0, Math.sqrt(Math.expm1(m2) - m2)]
    };
  }

  function prepare(spec) { return { spec: spec, cache: {} }; }

  /** The draws for sample size n, kept per n: moving the n slider back and forth draws nothing new. */
  function draws(ctx, n, reps) {
    var c = ctx.cache[n], spec = ctx.spec;
    if (!c || c.reps < reps) {
      var z = normalDraws(spec.seed, n, reps, spec.stride);
      c = ctx.cache[n] = { n: n, reps: reps, z: z };
    }
    return c.z;
  }

  /** The replicate averages of k1, k2, k3 and every number shown. */
  function simulate(ctx, state) {
    var spec = ctx.spec, mu = state.mu, n = spec.sizes[state.n_index];
    var reps = Math.min(state.reps === undefined ? spec.reps : state.reps, Math.floor(spec.max_draws / n));
    var key = mu + "|" + n + "|" + reps;
    if (ctx.last && ctx.last.key === key) return ctx.last.out;     // compute() and draw() share one simulation
    var out = simulateNow(ctx, mu, n, reps);
    ctx.last = { key: key, out: out };
    return out;
  }

  function simulateNow(ctx, mu, n, reps) {
    var z = draws(ctx, n, reps), c = -0.5 * mu * mu;
    var est = { k1: new Float64Array(reps), k2: new Float64Array(reps), k3: new Float64Array(reps) };
    for (var j = 0; j < reps; j++) {
      var s1 = 0, s2 = 0, s3 = 0, o = j * n;
      for (var i = 0; i < n; i++) {
        var l = mu * z[o + i] + c;           // log r = log q - log p = mu x - mu^2/2
        s1 -= l;
        s2 += 0.5 * l * l;
        s3 += Math.expm1(l) - l;
      }
      est.k1[j] = s1 / n; est.k2[j] = s2 / n; est.k3[j] = s3 / n;
    }
    var kl = mu * mu / 2, ex = exactMoments(mu), out = { kl: kl, reps: reps, n: n, est: est };
    ["k1", "k2", "k3"].forEach(function (e) {
      var a = est[e], m = 0, v = 0, k;
      for (k = 0; k < reps; k++) m += a[k];
      m /= reps;
      for (k = 0; k < reps; k++) v += (a[k] - m) * (a[k] - m);
      out["bias_" + e] = m - kl;
      out["sd_" + e] = Math.sqrt(v / (reps - 1));
      out["mean_" + e] = m;
      out["exact_bias_" + e] = ex[e][0];
      out["exact_sd_" + e] = ex[e][1] / Math.sqrt(n);
    });
    return out;
  }

  function compute(ctx, state) {
    var r = simulate(ctx, state), out = {};
    for (var k in r) if (Object.prototype.hasOwnProperty.call(r, k) && k !== "est") out[k] = r[k];
    return out;
  }

  var BINS = 40;

  function build(ex, body) {
    var spec = ex.spec, W = ex.W, H = 390, ph = 96;
    var svg = K.svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": spec.figure_label, "class": "kx-svg" }, body);
    K.svgEl("title", null, svg).textContent = spec.figure_label;
    ex.hist = [];
    spec.estimators.forEach(function (e, k) {
      var box = { x: 62, y: 24 + k * (ph + 12), w: W - 80, h: ph };
      var P = new K.Panel(svg, box, 0, 1, "replicates", k === 2 ? "estimate of KL(p ‖ q) from n draws (nats)" : null);
      P.noXLabels = k < 2;
      var bars = K.svgEl("path", { "class": e.cls }, P.plot);
      var exact = K.svgEl("line", { "class": "kx-exact" }, P.plot);
      var mean = K.svgEl("line", { "class": "kx-mean " + e.cls + "-line" }, P.plot);
      K.svgEl("text", { x: box.x + 8, y: box.y + 16, "class": "kx-legend-text kx-est-name" }, svg).textContent = e.label;
      ex.hist.push({ name: e.name, panel: P, bars: bars, exact: exact, mean: mean });
    });
    K.legend(svg, 62 + W - 80 - 10, 10, [["kx-exact", "exact KL"], ["kx-mean kx-mean-key", "average of the estimates"]], { right: true });
  }

  function buildButtons(ex, body) {
    var bar = K.el("div", { "class": "kx-buttons", role: "group", "aria-label": "Draw replicates" }, body);
    var more = ex.button(bar, "Draw " + ex.spec.reps_step + " more replicates", { "data-action": "more" });
    more.addEventListener("click", function () {
      var n = ex.spec.sizes[ex.state.n_index], cap = Math.min(2000, Math.floor(ex.spec.max_draws / n));
      ex.set({ reps: Math.min(cap, ex.state.reps + ex.spec.reps_step) });
    });
    var reset = ex.button(bar, "Start over (" + ex.spec.reps + " replicates)", { "data-action": "reset" });
    reset.addEventListener("click", function () { ex.set({ reps: ex.spec.reps }); });
    ex.repsText = K.el("span", { "class": "kx-note kx-reps", "aria-live": "polite" }, bar);
  }

  /** A table: one row per estimator, exact and simulated bias and sd side by side. */
  function buildReadouts(ex, body) {
    var spec = ex.spec;
    var wrap = K.el("div", { "class": "kx-readout kx-readout-table", "aria-live": "polite" }, body);
    var line = K.el("div", { "class": "kx-readout-line" }, wrap);
    K.el("span", { "class": "kx-readout-label" }, line).textContent = spec.readouts[0].label + " = ";
    ex.outputs.kl = K.el("output", { "class": "kx-value", "data-quantity": "kl" }, line);
    K.el("span", { "class": "kx-unit" }, line).textContent = " nats";
    var scroll = K.el("div", { "class": "kx-table-wrap" }, wrap);
    var table = K.el("table", { "class": "kx-table" }, scroll);
    K.el("caption", null, table).textContent = "Bias and sd of the average of n per-sample values (nats)";
    var head = K.el("tr", null, K.el("thead", null, table));
    ["", "bias exact", "bias sim.", "sd exact", "sd sim."].forEach(function (t) {
      K.el("th", { scope: "col" }, head).textContent = t;
    });
    var tb = K.el("tbody", null, table);
    spec.estimators.forEach(function (e) {
      var tr = K.el("tr", null, tb);
      K.el("th", { scope: "row", "class": e.cls + "-name", title: e.label }, tr).textContent = e.short || e.label;
      ["exact_bias_", "bias_", "exact_sd_", "sd_"].forEach(function (w) {
        var q = w + e.name;
        ex.outputs[q] = K.el("output", { "class": "kx-value", "data-quantity": q }, K.el("td", null, tr));
      });
    });
  }

  function draw(ex, vals) {
    var r = simulate(ex.ctx, ex.state), ex0 = exactMoments(ex.state.mu), n = r.n, lo = Infinity, hi = -Infinity;
    ["k1", "k2", "k3"].forEach(function (e) {
      var sd = ex0[e][1] / Math.sqrt(n);
      if (e === "k3") sd = Math.min(sd, 4 * ex0.k1[1] / Math.sqrt(n));
      lo = Math.min(lo, r.kl + ex0[e][0] - 4 * sd);
      hi = Math.max(hi, r.kl + ex0[e][0] + 4 * sd);
    });
    var st = K.niceStep(hi - lo, 8);
    lo = Math.floor(lo / st) * st; hi = Math.ceil(hi / st) * st;
    var width = (hi - lo) / BINS;
    ex.hist.forEach(function (h) {
      var a = r.est[h.name], counts = new Array(BINS), i, top = 0;
      for (i = 0; i < BINS; i++) counts[i] = 0;
      for (i = 0; i < a.length; i++) counts[Math.min(BINS - 1, Math.max(0, Math.floor((a[i] - lo) / width)))]++;
      for (i = 0; i < BINS; i++) top = Math.max(top, counts[i]);
      var P = h.panel;
      if (P.xlo !== lo || P.xhi !== hi) { P.xlo = lo; P.xhi = hi; P.ylo = undefined; }
      var ytop = Math.max(5, Math.ceil(top * 1.15 / 5) * 5);
      P.setY(0, ytop);
      var d = [];
      for (i = 0; i < BINS; i++) {
        if (!counts[i]) continue;
        var x0 = P.sx(lo + i * width), x1 = P.sx(lo + (i + 1) * width), y = P.sy(counts[i]), y0 = P.sy(0);
        d.push("M" + x0.toFixed(2) + " " + y0.toFixed(2) + "V" + y.toFixed(2) + "H" + (x1 - 0.6).toFixed(2) + "V" + y0.toFixed(2) + "Z");
      }
      h.bars.setAttribute("d", d.join(""));
      var xe = P.sx(r.kl).toFixed(2), xm = P.sx(r["mean_" + h.name]).toFixed(2);
      h.exact.setAttribute("x1", xe); h.exact.setAttribute("x2", xe);
      h.exact.setAttribute("y1", P.box.y); h.exact.setAttribute("y2", P.box.y + P.box.h);
      h.mean.setAttribute("x1", xm); h.mean.setAttribute("x2", xm);
      h.mean.setAttribute("y1", P.box.y); h.mean.setAttribute("y2", P.box.y + P.box.h);
    });
    if (ex.repsText) ex.repsText.textContent = r.reps + " replicates of n = " + n + " draws";
  }

  function controlText(ex, c) {
    if (c.param === "n_index") {
      var n = ex.spec.sizes[ex.state.n_index];
      return { shown: n, text: "n = " + n };
    }
    return null;
  }

  function onInput(ex, param) {
    if (param !== "n_index") return;
    var n = ex.spec.sizes[ex.state.n_index], cap = Math.floor(ex.spec.max_draws / n);
    if (ex.state.reps > cap) ex.state.reps = cap;
  }

  return { prepare: prepare, compute: compute, build: build, buildButtons: buildButtons,
    buildReadouts: buildReadouts, draw: draw, controlText: controlText, onInput: onInput,
    exports: { uniform: uniform, normalDraws: normalDraws, exactMoments: exactMoments } };
});
