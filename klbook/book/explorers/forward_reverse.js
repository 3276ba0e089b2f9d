/* klbook explorer part: forward vs reverse KL for a Gaussian q (chapter 4).
 * State {mean, log_scale} for q, and, when p is editable, {bumps, m1, s1, w1, m2, ...} for
 * p = sum_k (w_k / sum w) N(m_k, s_k^2). The densities on a fixed axis with draggable bump
 * handles; two loss landscapes over (mu, log sigma) with a log colour bar (reversed viridis,
 * as the static figure), local minima, animated capped descents and random restarts. */
register("forward_reverse", function (K) {
  "use strict";
  var LOG_SQRT_2PI = K.LOG_SQRT_2PI, Sum = K.Sum;

  /* ------------------------------------------------------------ p and its grid sums */

  /** The mixture of a state: null when the state does not edit p. */
  function mixOf(state) {
    if (state.bumps === undefined) return null;
    var w = [], m = [], s = [], tot = 0, k;
    for (k = 1; k <= state.bumps; k++) tot += state["w" + k];
    for (k = 1; k <= state.bumps; k++) { w.push(state["w" + k] / tot); m.push(state["m" + k]); s.push(state["s" + k]); }
    return { kind: "mixture", weights: w, means: m, stds: s };
  }

  function mixKey(mix) { return mix ? JSON.stringify([mix.weights, mix.means, mix.stds]) : "spec"; }

  /** Make the grid sums follow p: log p on the nodes and the drawing grid, w p, and p's grid moments. */
  function usePrepared(ctx, mix) {
    var key = mixKey(mix);
    if (ctx.pKey === key) return false;
    var p = mix || ctx.spec.p, i;
    ctx.lp = K.logp(p, ctx.x, mix ? null : ctx.spec.quad.logp);
    ctx.vlp = K.logp(p, ctx.vx, mix ? null : ctx.spec.view.logp);
    var pw = ctx.pw = new Float64Array(ctx.x.length);
    var M0 = new Sum(), M1 = new Sum(), M2 = new Sum(), nH = new Sum(), lo = -1, hi = -1;
    for (i = 0; i < ctx.x.length; i++) {
      pw[i] = ctx.lp[i] === -Infinity ? 0 : ctx.w[i] * Math.exp(ctx.lp[i]);
      if (pw[i] === 0) continue;
      if (lo < 0) lo = i;
      hi = i + 1;
      M0.add(pw[i]); M1.add(pw[i] * ctx.x[i]); M2.add(pw[i] * ctx.x[i] * ctx.x[i]); nH.add(pw[i] * ctx.lp[i]);
    }
    ctx.mom = { M0: M0.value(), M1: M1.value(), M2: M2.value(), negH: nH.value(), lo: lo, hi: hi };
    ctx.pKey = key;
    ctx.mix = mix;
    return true;
  }

  function prepare(spec) {
    var ctx = K.prepareQuad(spec);
    ctx.spec = spec;
    ctx.pKey = null;
    usePrepared(ctx, null);
    return ctx;
  }

  /** Gradient of the grid objective with respect to (mu, log sigma), exact for the sum:
   *  forward, from p's grid moments M_k = sum pw x^k and -H = sum pw log p:
   *    F = -H + log s + log sqrt(2 pi) M0 + (M2 - 2 mu M1 + mu^2 M0) / (2 s^2),
   *    dF/dmu = -(M1 - mu M0)/s^2,  dF/dlog s = M0 - (M2 - 2 mu M1 + mu^2 M0)/s^2;
   *  reverse: dG/dmu = sum w q (z/s)(lq - lp + 1), dG/dlog s = sum w q (z^2 - 1)(lq - lp + 1),
   *  z = (x - mu)/s, lq = log q, over the nodes within `window` sd of mu (default 40: every
   *  node where q > 0). Returns {value, g: [dmu, dlogs]}. */
  function objective(ctx, direction, m, logs, window) {
    var s = Math.exp(logs), x = ctx.x, lp = ctx.lp, c = logs + LOG_SQRT_2PI, i, z, lq;
    if (direction === "forward") {
      var M = ctx.mom, sq = M.M2 - 2 * m * M.M1 + m * m * M.M0;
      return { value: M.negH + c * M.M0 + sq / (2 * s * s), g: [-(M.M1 - m * M.M0) / (s * s), M.M0 - sq / (s * s)] };
    }
    var v = new Sum(), g0 = new Sum(), g1 = new Sum(), w = ctx.w, r = qRange(x, m, s, window || 40);
    for (i = r[0]; i < r[1]; i++) {
      z = (x[i] - m) / s; lq = -0.5 * z * z - c;
      var qw = w[i] * Math.exp(lq);
      if (qw === 0) continue;
      if (lp[i] === -Infinity) return { value: Infinity, g: [0, 0] };
      var d = lq - lp[i];
      v.add(qw * d);
      g0.add(qw * (z / s) * (d + 1));
      g1.add(qw * (z * z - 1) * (d + 1));
    }
    return { value: v.value(), g: [g0.value(), g1.value()] };
  }

  function qRange(x, m, s, k) {
    var lo = m - k * s, hi = m + k * s;
    function first(v) {
      var a = 0, b = x.length;
      while (a < b) { var h = (a + b) >> 1; if (x[h] < v) a = h + 1; else b = h; }
      return a;
    }
    return [Math.max(0, first(lo) - 1), Math.min(x.length, first(hi) + 1)];
  }

  /** Gradient descent on (mu, log sigma) inside the sliders' box, with a backtracking (Armijo) step
   *  whose length is capped at `cap` (default 0.03) of the box in the box's own units: far from a
   *  minimum every step moves q by the cap, so a path has many small steps and no leap. Returns the
   *  iterates [[mu, log s, value], ...]; the values never increase. */
  function descend(ctx, direction, start, box, maxIter, gtol, cap, window) {
    maxIter = maxIter || 5000;
    gtol = gtol || 1e-9;
    cap = cap || 0.03;
    window = window || 12;
    var span = [box[0][1] - box[0][0], box[1][1] - box[1][0]];
    var th = [start[0], start[1]], cur = objective(ctx, direction, th[0], th[1], window);
    var path = [[th[0], th[1], cur.value]], t = 0.05;
    function clip(v, k) { return Math.min(box[k][1], Math.max(box[k][0], v)); }
    for (var it = 0; it < maxIter; it++) {
      var g = cur.g, gn = Math.max(Math.abs(g[0]), Math.abs(g[1]));
      if (!(gn > gtol)) break;
      // the step in box units: -t * (gradient in box units), capped
      var d0 = -t * g[0] * span[0], d1 = -t * g[1] * span[1], len = Math.sqrt(d0 * d0 + d1 * d1);
      var accepted = false;
      for (var tries = 0; tries < 60; tries++) {
        var f = len > cap ? cap / len : 1;
        var t0 = clip(th[0] + f * d0 * span[0], 0), t1 = clip(th[1] + f * d1 * span[1], 1);
        var dec = g[0] * (th[0] - t0) + g[1] * (th[1] - t1);
        if (dec <= 0) break;
        var nxt = objective(ctx, direction, t0, t1, window);
        if (nxt.value <= cur.value - 1e-4 * dec) {
          th = [t0, t1]; cur = nxt; accepted = true;
          if (f === 1) t *= 1.6;
          break;
        }
        t *= 0.5; d0 *= 0.5; d1 *= 0.5; len *= 0.5;
      }
      if (!accepted) break;
      path.push([th[0], th[1], cur.value]);
    }
    return path;
  }

  /** Both divergences on an nm x ns grid of (mu, log sigma) over the box, for the colours only
   *  (the numbers shown come from compute()). Forward KL from p's grid moments; reverse KL on every
   *  k-th node within 10 sd of mu (k h <= s/8): a few parts in 10^4 at worst, invisible in a colour. */
  function landscape(ctx, box, nm, ns) {
    var x = ctx.x, lp = ctx.lp, w = ctx.w, n = x.length, i, j, k, M = ctx.mom;
    var uniform = ctx.spec.quad.rule === "trapezoid", h = uniform ? x[1] - x[0] : 0;
    var fwd = new Float64Array(nm * ns), rev = new Float64Array(nm * ns);
    for (j = 0; j < ns; j++) {
      var ls = box[1][0] + (box[1][1] - box[1][0]) * j / (ns - 1), s = Math.exp(ls), c = ls + LOG_SQRT_2PI;
      var stride = uniform ? Math.max(1, Math.floor(s / (8 * h))) : 1;
      for (i = 0; i < nm; i++) {
        var m = box[0][0] + (box[0][1] - box[0][0]) * i / (nm - 1);
        fwd[j * nm + i] = M.negH + c * M.M0 + (M.M2 - 2 * m * M.M1 + m * m * M.M0) / (2 * s * s);
        var a = 0, b = n;
        if (uniform) {
          a = Math.max(0, Math.floor((m - 10 * s - x[0]) / h));
          b = Math.min(n, Math.ceil((m + 10 * s - x[0]) / h) + 1);
        }
        var acc = 0;
        for (k = a; k < b; k += stride) {
          var z = (x[k] - m) / s, lq = -0.5 * z * z - c, q = Math.exp(lq);
          if (q === 0) continue;
          if (lp[k] === -Infinity) { acc = Infinity; break; }
          acc += w[k] * stride * q * (lq - lp[k]);
        }
        rev[j * nm + i] = acc;
      }
    }
    return { forward: fwd, reverse: rev, nm: nm, ns: ns };
  }

  function compute(ctx, state) {
    usePrepared(ctx, mixOf(state));
    var m = state.mean, s = Math.exp(state.log_scale);
    return {
      mean: m, scale: s,
      forward: K.forwardIntegrals(ctx.x, ctx.pw, ctx.lp, m, s).forward,
      reverse: K.reverseKL(ctx.x, ctx.w, ctx.lp, m, s)
    };
  }

  /** Local minima of the reverse objective from several starts: each bump, between neighbouring
   *  bumps (wide), and the forward optimum (the centre). A point counts when the gradient vanishes
   *  and the finite-difference Hessian of the gradient is positive definite. */
  function reverseMinima(ctx, box) {
    var mix = ctx.mix || ctx.spec.p, M = ctx.mom, starts = [], k, out = [];
    var mu = M.M1 / M.M0, sd = Math.sqrt(Math.max(1e-12, M.M2 / M.M0 - mu * mu));
    for (k = 0; k < mix.means.length; k++) starts.push([mix.means[k], Math.log(mix.stds[k])]);
    starts.push([mu, Math.log(sd)]);
    var order = mix.means.slice().sort(function (a, b) { return a - b; });
    for (k = 0; k + 1 < order.length; k++) starts.push([(order[k] + order[k + 1]) / 2, Math.log(Math.max(0.5 * (order[k + 1] - order[k]), 1e-3))]);
    starts.forEach(function (st) {
      var s0 = [Math.min(box[0][1], Math.max(box[0][0], st[0])), Math.min(box[1][1], Math.max(box[1][0], st[1]))];
      var path = descend(ctx, "reverse", s0, box, 4000, 1e-8, 0.05);
      var e = path[path.length - 1], g = objective(ctx, "reverse", e[0], e[1]).g;
      if (Math.abs(g[0]) > 1e-5 || Math.abs(g[1]) > 1e-5) return;      // stopped at the box's edge
      var hs = 1e-4, ga = objective(ctx, "reverse", e[0] + hs, e[1]).g, gb = objective(ctx, "reverse", e[0] - hs, e[1]).g;
      var gc = objective(ctx, "reverse", e[0], e[1] + hs).g, gd = objective(ctx, "reverse", e[0], e[1] - hs).g;
      var h00 = (ga[0] - gb[0]) / (2 * hs), h11 = (gc[1] - gd[1]) / (2 * hs), h01 = 0.5 * ((ga[1] - gb[1]) + (gc[0] - gd[0])) / (2 * hs);
      if (!(h00 > 0 && h00 * h11 - h01 * h01 > 0)) return;
      for (var j = 0; j < out.length; j++) if (Math.abs(out[j].mean - e[0]) < 1e-3 && Math.abs(out[j].log_scale - e[1]) < 1e-3) return;
      out.push({ mean: e[0], log_scale: e[1], value: e[2] });
    });
    out.sort(function (a, b) { return a.mean - b.mean; });
    return out;
  }

  /* ------------------------------------------------------------ the page */

  function boxOf(ex) {
    var c = ex.spec.controls;
    return [[c[0].min, c[0].max], [c[1].min, c[1].max]];
  }

  function snap(v, c) {
    v = Math.min(c.max, Math.max(c.min, v));
    return parseFloat((c.min + Math.round((v - c.min) / c.step) * c.step).toFixed(10));
  }

  function init(ex) {
    var spec = ex.spec;
    ex.optima = { forward: [], reverse: [] };
    (spec.buttons || []).forEach(function (b) {
      ex.optima[b.direction].push({ mean: b.state.mean, log_scale: b.state.log_scale, value: b.fit.kl });
    });
    ex.restarts = { count: 0, found: [] };
  }

  function build(ex, body) {
    var spec = ex.spec, W = ex.W, H = ex.narrow ? 300 : 300;
    var svg = K.svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: spec.editor ? "group" : "img", "aria-label": spec.figure_label, "class": "kx-svg kx-densities" }, body);
    K.svgEl("title", null, svg).textContent = spec.figure_label;
    ex.svg = svg;
    var box = { x: 62, y: ex.narrow ? 44 : 30, w: W - 80, h: H - (ex.narrow ? 44 : 30) - 40 };
    ex.densityPanel(svg, box);
    K.svgEl("text", { x: box.x + box.w / 2, y: H - 4, "text-anchor": "middle", "class": "kx-label" }, svg).textContent = "x";
    if (spec.editor) buildHandles(ex, svg);
    if (spec.landscape) buildLandscape(ex, body);
  }

  /* ---- p's editor: handles on the plot, sliders, add / remove ---- */

  function buildHandles(ex, svg) {
    ex.handles = K.svgEl("g", { "class": "kx-handles" }, ex.top.g);
    var dragging = null;
    svg.addEventListener("pointerdown", function (ev) {
      var t = ev.target;
      if (!t || !t.getAttribute || t.getAttribute("data-bump") === null) return;
      dragging = parseInt(t.getAttribute("data-bump"), 10);
      if (svg.setPointerCapture && ev.pointerId !== undefined) { try { svg.setPointerCapture(ev.pointerId); } catch (e) { /* ignore */ } }
      t.classList.add("kx-active");
      ev.preventDefault();
    });
    svg.addEventListener("pointermove", function (ev) {
      if (dragging === null) return;
      var pt = ex.svgPoint(svg, ev);
      if (!pt) return;
      var st = {};
      st["m" + dragging] = snap(ex.top.ix(pt.x), ex.spec.editor.loc);
      setP(ex, st);
    });
    var stop = function () {
      if (dragging === null) return;
      var hs = ex.handles.querySelectorAll(".kx-active");
      for (var i = 0; i < hs.length; i++) hs[i].classList.remove("kx-active");
      dragging = null;
    };
    svg.addEventListener("pointerup", stop);
    svg.addEventListener("pointercancel", stop);
  }

  function drawHandles(ex) {
    var g = ex.handles, st = ex.state, P = ex.top, e = ex.spec.editor;
    if (!g) return;
    var have = g.querySelectorAll("circle.kx-handle");
    if (have.length !== st.bumps) {
      while (g.firstChild) g.removeChild(g.firstChild);
      for (var k = 1; k <= st.bumps; k++) (function (k) {
        var c = K.svgEl("circle", { r: 7, "class": "kx-handle", "data-bump": k, tabindex: "0", role: "slider",
          "aria-label": "Location of bump " + k + " of p (drag, or arrow keys)", "aria-valuemin": e.loc.min, "aria-valuemax": e.loc.max }, g);
        K.stopKeys(c);
        c.addEventListener("keydown", function (ev) {
          var d = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1, PageDown: -10, PageUp: 10 }[ev.key];
          if (!d) return;
          ev.preventDefault();
          var o = {};
          o["m" + k] = snap(ex.state["m" + k] + d * e.loc.step, e.loc);
          setP(ex, o);
        });
      })(k);
      have = g.querySelectorAll("circle.kx-handle");
    }
    var mix = mixOf(st);
    for (var i = 0; i < have.length; i++) {
      var m = st["m" + (i + 1)], lpv = K.logp(mix, [m])[0];
      have[i].setAttribute("cx", P.sx(m).toFixed(2));
      have[i].setAttribute("cy", Math.max(P.box.y + 7, P.sy(Math.exp(lpv))).toFixed(2));
      have[i].setAttribute("aria-valuenow", String(m));
      have[i].setAttribute("aria-valuetext", "bump " + (i + 1) + " at m = " + K.fmtFixed(m, 2));
    }
  }

  /** Change p (a partial state of bump keys): the landscapes and the minima follow. */
  function setP(ex, partial) {
    ex.stopAnimation();
    for (var k in partial) if (Object.prototype.hasOwnProperty.call(partial, k)) {
      ex.state[k] = partial[k];
      if (ex.inputs[k]) ex.inputs[k].value = String(partial[k]);
    }
    pChanged(ex);
    ex.render();
  }

  function pChanged(ex) {
    ex.pDirty = true;             // redraw p (drawDensities)
    ex.yfixed = null;             // a new fixed density axis for the new p
    ex.optima.reverse = [];       // klbook's optima were for the given p; the page searches again
    ex.optima.forward = [];
    ex.restarts.found = [];
    if (ex.land) {
      ex.land.panels.forEach(function (P) { P.path.setAttribute("points", ""); P.halo.setAttribute("points", ""); });
      ex.landDirty = true;
      ex.landCoarse = true;
      scheduleMinima(ex);
    }
  }

  function scheduleMinima(ex) {
    if (ex.minimaTimer) clearTimeout(ex.minimaTimer);
    if (typeof setTimeout !== "function") return;
    ex.minimaTimer = setTimeout(function () {
      ex.minimaTimer = null;
      compute(ex.ctx, ex.state);
      var box = boxOf(ex), M = ex.ctx.mom, mu = M.M1 / M.M0, sd = Math.sqrt(M.M2 / M.M0 - mu * mu);
      ex.optima.forward = [{ mean: mu, log_scale: Math.log(sd), value: objective(ex.ctx, "forward", mu, Math.log(sd)).value }];
      ex.optima.reverse = reverseMinima(ex.ctx, box);
      ex.minimaSource = "page";
      drawMarks(ex);
      rebuildJumps(ex);
      if (ex.land && ex.landCoarse) { ex.landCoarse = false; ex.landDirty = true; paintIfDirty(ex); }
    }, 120);
  }

  function editorSlider(ex, parent, k, what) {
    var e = ex.spec.editor, r = e[what === "m" ? "loc" : what === "s" ? "width" : "weight"];
    var names = { m: "Location of bump ", s: "Width of bump ", w: "Weight of bump " };
    var sym = { m: "m", s: "s", w: "w" };
    var input = ex.addSlider(parent, { param: what + k, label: names[what] + k, symbol: sym[what] + k,
      min: r.min, max: r.max, step: r.step, value: ex.state[what + k], digits: 2 });
    return input;
  }

  function buildEditor(ex) {
    var box = ex.editorBox, st = ex.state, k;
    // forget the old inputs
    ["m", "s", "w"].forEach(function (w) {
      for (var j = 1; j <= 3; j++) { delete ex.inputs[w + j]; delete ex.outputs["control:" + w + j]; }
    });
    while (box.firstChild) box.removeChild(box.firstChild);
    K.el("legend", null, box).textContent = "Shape p: " + st.bumps + (st.bumps === 1 ? " bump" : " bumps") +
      " (weights are normalised; drag a handle on the plot to move a bump)";
    for (k = 1; k <= st.bumps; k++) {
      var grp = K.el("div", { "class": "kx-bump", role: "group", "aria-label": "Bump " + k }, box);
      ["m", "s", "w"].forEach(function (w) { editorSlider(ex, grp, k, w); });
      (function (k) {
        var rm = ex.button(grp, "Remove bump " + k, { "data-action": "remove-bump" });
        if (st.bumps <= 1) rm.disabled = true;
        rm.addEventListener("click", function () { removeBump(ex, k); });
      })(k);
    }
    var add = ex.button(box, "Add a bump", { "data-action": "add-bump" });
    if (st.bumps >= ex.spec.editor.max_bumps) add.disabled = true;
    add.addEventListener("click", function () { addBump(ex); });
  }

  function addBump(ex) {
    var st = ex.state, e = ex.spec.editor, k = st.bumps + 1, ms = [], j;
    if (k > e.max_bumps) return;
    for (j = 1; j < k; j++) ms.push(st["m" + j]);
    // the free spot: the middle of the widest gap between bumps and the ends of the range
    var pts = ms.concat([e.loc.min, e.loc.max]).sort(function (a, b) { return a - b; }), best = 0, at = 0;
    for (j = 0; j + 1 < pts.length; j++) if (pts[j + 1] - pts[j] > best) { best = pts[j + 1] - pts[j]; at = (pts[j] + pts[j + 1]) / 2; }
    st.bumps = k;
    st["m" + k] = snap(at, e.loc);
    st["s" + k] = snap(st.s1, e.width);
    st["w" + k] = 0.5;
    buildEditor(ex);
    pChanged(ex);
    ex.render();
    focusIn(ex, "m" + k);
  }

  function removeBump(ex, k) {
    var st = ex.state, j;
    if (st.bumps <= 1) return;
    for (j = k; j < st.bumps; j++) ["m", "s", "w"].forEach(function (w) { st[w + j] = st[w + (j + 1)]; });
    ["m", "s", "w"].forEach(function (w) { delete st[w + st.bumps]; });
    st.bumps -= 1;
    buildEditor(ex);
    pChanged(ex);
    ex.render();
    focusIn(ex, "m" + Math.min(k, st.bumps));
  }

  function focusIn(ex, param) {
    var el = ex.inputs[param];
    if (el && el.focus) el.focus({ preventScroll: true });
  }

  function buildControls(ex, body) {
    if (!ex.spec.editor) return;
    ex.editorBox = K.el("fieldset", { "class": "kx-editor kx-controls" }, body);
    buildEditor(ex);
  }

  function onInput(ex, param) {
    if (/^[msw][0-9]$/.test(param)) pChanged(ex);
  }

  /* ---- landscapes ---- */

  function buildLandscape(ex, root) {
    var box = boxOf(ex), W = ex.W, narrow = ex.narrow, cbw = 12, i;
    var pw = narrow ? W - 62 - 70 : (W - 62 - 34 - 78) / 2, ph = narrow ? 150 : 180;
    var H = narrow ? 2 * ph + 130 : ph + 70;
    var svg = K.svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "class": "kx-svg kx-landscape",
      "aria-label": ex.spec.landscape.label }, root);
    K.svgEl("title", null, svg).textContent = ex.spec.landscape.label;
    ex.land = { svg: svg, panels: [] };
    var names = ["forward", "reverse"], titles = ["forward KL(p ‖ q)", "reverse KL(q ‖ p)"];
    for (var k = 0; k < 2; k++) {
      var b = narrow ? { x: 62, y: 24 + k * (ph + 62), w: pw, h: ph } : { x: 62 + k * (pw + 34), y: 24, w: pw, h: ph };
      var panel = new K.Panel(svg, b, box[0][0], box[0][1], narrow || k === 0 ? "log σ" : "", "mean μ");
      panel.setY(box[1][0], box[1][1]);
      K.svgEl("text", { x: b.x + b.w / 2, y: b.y - 8, "text-anchor": "middle", "class": "kx-label" }, svg).textContent = titles[k];
      var img = K.svgEl("image", { x: b.x, y: b.y, width: b.w, height: b.h, preserveAspectRatio: "none", "class": "kx-heat" }, panel.plot);
      var g = K.svgEl("g", null, panel.plot);
      var halo = K.svgEl("polyline", { "class": "kx-path-halo", points: "" }, g);
      var path = K.svgEl("polyline", { "class": "kx-path", points: "" }, g);
      var marks = K.svgEl("g", { "class": "kx-marks" }, g);
      var curHalo = K.svgEl("circle", { r: 5.5, "class": "kx-current-halo" }, g);
      var cur = K.svgEl("circle", { r: 5.5, "class": "kx-current" }, g);
      ex.land.panels.push({ name: names[k], panel: panel, img: img, path: path, halo: halo, marks: marks, cur: cur, curHalo: curHalo });
    }
    // the colour bar, shared by both panels
    var top = 24, bottom = narrow ? 24 + 2 * ph + 62 : 24 + ph, cx = W - 62;
    ex.land.cbar = { x: cx, y: top, w: cbw, h: bottom - top };
    ex.land.cbarImg = K.svgEl("image", { x: cx, y: top, width: cbw, height: bottom - top, preserveAspectRatio: "none" }, svg);
    K.svgEl("rect", { x: cx, y: top, width: cbw, height: bottom - top, "class": "kx-frame" }, svg);
    ex.land.cbarTicks = K.svgEl("g", null, svg);
    var t = K.svgEl("text", { x: W - 8, y: (top + bottom) / 2, "text-anchor": "middle", "class": "kx-label",
      transform: "rotate(-90 " + (W - 8) + " " + (top + bottom) / 2 + ")" }, svg);
    t.textContent = "divergence (nats)";
    svg.addEventListener("click", function (ev) { landscapeClick(ex, ev); });
    ex.landDirty = true;
    // the first colours after the first render
    if (typeof setTimeout === "function") setTimeout(function () { paintIfDirty(ex); }, 0);
    for (i = 0; i < 0; i++) { /* no-op */ }
  }

  function colourOf(v, lo, hi) {
    var t = isFinite(v) ? (Math.log(Math.max(v, lo)) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)) : 1;
    return K.colour(t, true);      // reversed viridis: low = yellow, high = dark, as the static figure
  }

  function paintIfDirty(ex) {
    if (!ex.landDirty || !ex.land) return;
    ex.landDirty = false;
    if (typeof document === "undefined") return;
    var t0 = typeof performance !== "undefined" ? performance.now() : 0;
    var L = ex.spec.landscape, box = boxOf(ex), k, i;
    // while p is being edited (a drag, a held key) a grid of half the resolution, a quarter of the
    // work; the full grid follows 120 ms after the last change (scheduleMinima)
    var coarse = !!ex.landCoarse, nm = coarse ? Math.ceil(L.n_mean / 2) : L.n_mean, ns = coarse ? Math.ceil(L.n_log_scale / 2) : L.n_log_scale;
    var data = landscape(ex.ctx, box, nm, ns);
    data.coarse = coarse;
    ex.landData = data;
    var lo = Infinity, hi = -Infinity;
    ["forward", "reverse"].forEach(function (nm) {
      var a = data[nm];
      for (i = 0; i < a.length; i++) if (isFinite(a[i])) { lo = Math.min(lo, a[i]); hi = Math.max(hi, a[i]); }
    });
    // a log scale from a 1-2-5 number below the lowest value (at least 0.01) to at most vmax
    lo = Math.max(0.01, lo);
    var mag = Math.pow(10, Math.floor(Math.log(lo) / Math.LN10)), f = lo / mag;
    lo = (f >= 5 ? 5 : f >= 2 ? 2 : 1) * mag;
    hi = Math.min(L.vmax, Math.max(hi, 10 * lo));
    ex.land.norm = [lo, hi];
    for (k = 0; k < 2; k++) {
      var vals = data[ex.land.panels[k].name];
      var canvas = document.createElement("canvas");
      canvas.width = data.nm; canvas.height = data.ns;
      var c2 = canvas.getContext("2d");
      if (!c2) return;
      var im = c2.createImageData(data.nm, data.ns);
      for (var j = 0; j < data.ns; j++) {
        for (i = 0; i < data.nm; i++) {
          var rgb = colourOf(vals[j * data.nm + i], lo, hi), o = 4 * ((data.ns - 1 - j) * data.nm + i);
          im.data[o] = rgb[0]; im.data[o + 1] = rgb[1]; im.data[o + 2] = rgb[2]; im.data[o + 3] = 255;
        }
      }
      c2.putImageData(im, 0, 0);
      ex.land.panels[k].img.setAttribute("href", canvas.toDataURL("image/png"));
    }
    paintColourBar(ex, lo, hi);
    if (t0) (ex.paintTimings = ex.paintTimings || []).push(performance.now() - t0);
  }

  function paintColourBar(ex, lo, hi) {
    var cb = ex.land.cbar, g = ex.land.cbarTicks, n = 64, i;
    var canvas = document.createElement("canvas");
    canvas.width = 1; canvas.height = n;
    var c2 = canvas.getContext("2d"), im = c2.createImageData(1, n);
    for (i = 0; i < n; i++) {
      var rgb = K.colour(1 - (i + 0.5) / n, true);     // top of the bar = high = dark
      im.data[4 * i] = rgb[0]; im.data[4 * i + 1] = rgb[1]; im.data[4 * i + 2] = rgb[2]; im.data[4 * i + 3] = 255;
    }
    c2.putImageData(im, 0, 0);
    ex.land.cbarImg.setAttribute("href", canvas.toDataURL("image/png"));
    while (g.firstChild) g.removeChild(g.firstChild);
    var ticks = [];
    for (var e = -2; e <= 2; e++) [1, 2, 5].forEach(function (f) { var v = f * Math.pow(10, e); if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v); });
    if (ticks.length > 7) ticks = ticks.filter(function (v) { return Math.abs(Math.log(v) / Math.LN10 - Math.round(Math.log(v) / Math.LN10)) < 1e-9 || String(v).charAt(0) === "5"; });
    ticks.forEach(function (v) {
      var y = cb.y + cb.h * (1 - (Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)));
      K.svgEl("line", { x1: cb.x + cb.w, x2: cb.x + cb.w + 4, y1: y, y2: y, "class": "kx-tickmark" }, g);
      K.svgEl("text", { x: cb.x + cb.w + 6, y: y + 4, "class": "kx-tick" }, g).textContent = v >= 1 ? String(v) : K.fmt(v, v >= 0.1 ? 1 : 2);
    });
  }

  function drawMarks(ex) {
    if (!ex.land) return;
    ex.land.panels.forEach(function (P) {
      var g = P.marks;
      while (g.firstChild) g.removeChild(g.firstChild);
      var list = ex.optima[P.name] || [];
      list.forEach(function (o) {
        var mx = P.panel.sx(o.mean), my = P.panel.sy(o.log_scale), d = "M" + (mx - 6) + " " + (my - 6) + "l12 12M" + (mx - 6) + " " + (my + 6) + "l12 -12";
        K.svgEl("path", { "class": "kx-opt-halo", d: d }, g);
        var c = K.svgEl("path", { "class": "kx-opt", d: d, "data-mean": String(o.mean), "data-log-scale": String(o.log_scale) }, g);
        K.svgEl("title", null, c).textContent = "local minimum: μ = " + K.fmtFixed(o.mean, 2) + ", σ = " + K.fmtFixed(Math.exp(o.log_scale), 2) +
          ", KL = " + K.fmtFixed(o.value, 3) + " nats";
      });
      if (P.name === "reverse") ex.restarts.found.forEach(function (o) {
        var mx = P.panel.sx(o.mean), my = P.panel.sy(o.log_scale);
        K.svgEl("circle", { cx: mx, cy: my, r: 9, "class": "kx-restart-mark" }, g);
      });
    });
  }

  function rebuildJumps(ex) {
    var bar = ex.jumpBar;
    if (!bar) return;
    while (bar.firstChild) bar.removeChild(bar.firstChild);
    var all = ex.optima.forward.map(function (o) { return ["forward", o]; }).concat(ex.optima.reverse.map(function (o) { return ["reverse", o]; }));
    var nrev = ex.optima.reverse.length, r = 0;
    all.forEach(function (item) {
      var o = item[1], name = item[0] === "forward" ? "Forward optimum" : (nrev === 1 ? "Reverse optimum" : "Reverse optimum " + (++r));
      var btn = ex.button(bar, name + ": μ = " + K.fmtFixed(o.mean, 2) + ", σ = " + K.fmtFixed(Math.exp(o.log_scale), 2), { "data-action": "jump" });
      btn.addEventListener("click", function () { ex.stopAnimation(); ex.set({ mean: o.mean, log_scale: o.log_scale }); });
    });
  }

  function landscapeClick(ex, ev) {
    var p = ex.svgPoint(ex.land.svg, ev), c = ex.spec.controls;
    if (!p) return;
    for (var k = 0; k < 2; k++) {
      var P = ex.land.panels[k].panel, b = P.box;
      if (p.x < b.x || p.x > b.x + b.w || p.y < b.y || p.y > b.y + b.h) continue;
      ex.stopAnimation();
      ex.set({ mean: snap(P.ix(p.x), c[0]), log_scale: snap(P.iy(p.y), c[1]) });
      return;
    }
  }

  /* ---- live fits: a capped descent, animated along its path for at least a second ---- */

  function animate(ex, direction, path, done) {
    var P = null, k, box = boxOf(ex);
    if (path.length < 2) {            // already at a minimum: nothing to move
      ex.anim = null;
      ex.lastAnim = { stopped: false, direction: direction, frames: 0, positions: [], path: path, duration: 0 };
      if (done) done(path[0]);
      return ex.lastAnim;
    }
    if (ex.land) for (k = 0; k < 2; k++) {
      var Q = ex.land.panels[k];
      if (Q.name === direction) P = Q;
      else { Q.path.setAttribute("points", ""); Q.halo.setAttribute("points", ""); }
    }
    // arc length in box units
    var span = [box[0][1] - box[0][0], box[1][1] - box[1][0]], cum = [0], i;
    for (i = 1; i < path.length; i++) {
      var a = (path[i][0] - path[i - 1][0]) / span[0], b = (path[i][1] - path[i - 1][1]) / span[1];
      cum.push(cum[i - 1] + Math.sqrt(a * a + b * b));
    }
    var L = cum[cum.length - 1], T = Math.min(3000, Math.max(1200, 1200 + 1500 * L));
    var anim = { stopped: false, direction: direction, frames: 0, positions: [], path: path, duration: T };
    ex.anim = anim;
    ex.lastAnim = anim;
    var t0 = null, seg = 1;
    function at(s) {
      while (seg < path.length - 1 && cum[seg] < s) seg++;
      var c0 = cum[seg - 1], c1 = cum[seg], f = c1 > c0 ? Math.min(1, Math.max(0, (s - c0) / (c1 - c0))) : 1;
      return [path[seg - 1][0] + f * (path[seg][0] - path[seg - 1][0]), path[seg - 1][1] + f * (path[seg][1] - path[seg - 1][1])];
    }
    function drawTo(pt) {
      if (!P) return;
      var pts = [];
      for (var j = 0; j < seg; j++) pts.push(P.panel.sx(path[j][0]).toFixed(2) + "," + P.panel.sy(path[j][1]).toFixed(2));
      pts.push(P.panel.sx(pt[0]).toFixed(2) + "," + P.panel.sy(pt[1]).toFixed(2));
      var s = pts.join(" ");
      P.path.setAttribute("points", s);
      P.halo.setAttribute("points", s);
    }
    var step = function (now) {
      if (anim.stopped) return;
      if (t0 === null) t0 = now;
      var u = Math.min(1, (now - t0) / T), e = 1 - Math.pow(1 - u, 1.6);
      var pt = u >= 1 ? [path[path.length - 1][0], path[path.length - 1][1]] : at(L * e);
      if (u >= 1) seg = path.length - 1;
      drawTo(pt);
      anim.frames++;
      anim.positions.push([pt[0], pt[1]]);
      ex.set({ mean: pt[0], log_scale: pt[1] });
      ex.anim = anim;          // set() does not stop it; keep the handle
      if (u < 1 && typeof requestAnimationFrame === "function") requestAnimationFrame(step);
      else { ex.anim = null; if (done) done(path[path.length - 1]); }
    };
    if (typeof requestAnimationFrame === "function") requestAnimationFrame(step);
    else step(0 + T);
    return anim;
  }

  function descendFromHere(ex, direction, done) {
    ex.stopAnimation();
    compute(ex.ctx, ex.state);
    var path = descend(ex.ctx, direction, [ex.state.mean, ex.state.log_scale], boxOf(ex));
    ex.lastPath = { direction: direction, path: path };
    return animate(ex, direction, path, done);
  }

  function restart(ex) {
    var spec = ex.spec, box = boxOf(ex), n = ex.restarts.count++;
    var u1 = K.uniform(spec.restart.seed, 2 * n), u2 = K.uniform(spec.restart.seed, 2 * n + 1);
    var c = spec.controls;
    ex.stopAnimation();
    ex.set({ mean: snap(box[0][0] + u1 * (box[0][1] - box[0][0]), c[0]), log_scale: snap(box[1][0] + u2 * (box[1][1] - box[1][0]), c[1]) });
    descendFromHere(ex, "reverse", function (end) {
      ex.restarts.found.push({ mean: end[0], log_scale: end[1], value: end[2] });
      drawMarks(ex);
      showRestarts(ex);
    });
  }

  function showRestarts(ex) {
    if (!ex.restartText) return;
    var f = ex.restarts.found;
    if (!f.length) { ex.restartText.textContent = ""; return; }
    var seen = [];
    f.forEach(function (o) {
      for (var j = 0; j < seen.length; j++) if (Math.abs(seen[j].mean - o.mean) < 1e-3 && Math.abs(seen[j].log_scale - o.log_scale) < 1e-3) { seen[j].n++; return; }
      seen.push({ mean: o.mean, log_scale: o.log_scale, value: o.value, n: 1 });
    });
    ex.restartText.textContent = f.length + (f.length === 1 ? " restart" : " restarts") + " ended at: " + seen.map(function (o) {
      return "μ = " + K.fmtFixed(o.mean, 2) + ", σ = " + K.fmtFixed(Math.exp(o.log_scale), 2) + " (KL " + K.fmtFixed(o.value, 3) + ", " + o.n + "×)";
    }).join("; ");
  }

  function buildButtons(ex, body) {
    // the jump buttons: the core built klbook's; keep their bar to rebuild it for an edited p
    var bars = body.querySelectorAll(".kx-buttons");
    ex.jumpBar = bars.length ? bars[bars.length - 1] : null;
    if (!ex.spec.descend) return;
    var bar = K.el("div", { "class": "kx-buttons", role: "group", "aria-label": "Fit q by gradient descent, live" }, body);
    ex.spec.descend.forEach(function (d) {
      var btn = ex.button(bar, d.label, { "data-action": "descend", "data-direction": d.direction });
      btn.addEventListener("click", function () { descendFromHere(ex, d.direction); });
    });
    if (ex.spec.restart) {
      var rb = ex.button(bar, ex.spec.restart.label, { "data-action": "restart" });
      rb.addEventListener("click", function () { restart(ex); });
    }
    ex.restartText = K.el("p", { "class": "kx-note kx-restarts", "aria-live": "polite" }, body);
  }

  function draw(ex, vals) {
    if (ex.yfixed === null || ex.yfixed === undefined || ex.pDirty) {
      var n = ex.ctx.vx.length, i;
      ex.vp = new Float64Array(n);
      for (i = 0; i < n; i++) ex.vp[i] = Math.exp(ex.ctx.vlp[i]);
      ex.pmax = K.maxOf(ex.vp);
      // the density axis is fixed while q moves: set by p alone
      ex.yfixed = ex.pmax * 1.45;
      ex.pDirty = true;
    }
    ex.drawDensities(vals.mean, vals.scale, ex.yfixed);
    drawHandles(ex);
    if (ex.spec.editor) for (var k = 1; k <= ex.state.bumps; k++) ["m", "s", "w"].forEach(function (w) {
      var o = ex.outputs["control:" + w + k], inp = ex.inputs[w + k];
      if (!o) return;
      var v = ex.state[w + k], text = w + k + " = " + K.fmtFixed(v, 2);
      if (w === "w") {
        var tot = 0;
        for (var j = 1; j <= ex.state.bumps; j++) tot += ex.state["w" + j];
        text += " (" + K.fmtFixed(v / tot, 2) + " of p)";
      }
      o.textContent = text; o.value = text; o.setAttribute("data-value", String(v));
      inp.setAttribute("aria-valuetext", text);
    });
    if (!ex.land) return;
    if (ex.landDirty && !ex.paintQueued) {
      // one repaint per frame however many events arrive (a drag sends many)
      ex.paintQueued = true;
      var go = function () { ex.paintQueued = false; paintIfDirty(ex); };
      if (typeof requestAnimationFrame === "function") requestAnimationFrame(go); else go();
    }
    if (ex.marksDrawn !== true) { drawMarks(ex); ex.marksDrawn = true; }
    for (var q = 0; q < 2; q++) {
      var P = ex.land.panels[q], cx = P.panel.sx(ex.state.mean).toFixed(2), cy = P.panel.sy(ex.state.log_scale).toFixed(2);
      P.cur.setAttribute("cx", cx); P.cur.setAttribute("cy", cy);
      P.curHalo.setAttribute("cx", cx); P.curHalo.setAttribute("cy", cy);
    }
  }

  function controlText(ex, c) {
    if (c.param === "log_scale") {
      var v = ex.state.log_scale;
      return { shown: v, text: "σ = " + K.fmtFixed(Math.exp(v), 3) + " (log σ = " + K.fmtFixed(v, 2) + ")" };
    }
    return null;
  }

  return { prepare: prepare, compute: compute, init: init, build: build, draw: draw, buildControls: buildControls,
    buildButtons: buildButtons, controlText: controlText, onInput: onInput,
    exports: { objective: objective, descend: descend, landscape: landscape, reverseMinima: reverseMinima,
      mixOf: mixOf } };
});
