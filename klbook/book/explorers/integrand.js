/* klbook explorer part: the integrand of KL(p || q) (chapter 2).
 * q = N(mean, scale^2) from two sliders; top panel: p and q; bottom panel: the
 * integrand p log(p/q), its positive and negative areas shaded. */
register("integrand", function (K) {
  "use strict";

  /** log p at one point for a mixture p (log-sum-exp), with the constants of `mixConst`. */
  function mixConst(p) {
    var c = { m: p.means, lw: [], inv: [], t: new Float64Array(p.means.length) };
    for (var k = 0; k < p.means.length; k++) {
      c.lw.push(Math.log(p.weights[k]) - Math.log(p.stds[k]) - K.LOG_SQRT_2PI);
      c.inv.push(1 / p.stds[k]);
    }
    return c;
  }

  function mixLogpdf(c, x) {
    var mx = -Infinity, k, n = c.m.length, t = c.t;
    for (k = 0; k < n; k++) {
      var z = (x - c.m[k]) * c.inv[k];
      t[k] = c.lw[k] - 0.5 * z * z;
      if (t[k] > mx) mx = t[k];
    }
    if (mx === -Infinity) return -Infinity;
    var s = 0;
    for (k = 0; k < n; k++) s += Math.exp(t[k] - mx);
    return mx + Math.log(s);
  }

  /** The signed areas of the integrand f = p (log p - log q) and TV(p, q) = int max(p - q, 0), for a
   *  mixture p: the crossings p = q are found on the grid and refined by bisection, and each region
   *  between crossings is integrated by Gauss-Legendre in pieces (f is smooth inside a region). */
  function signedAreas(ctx, m, s) {
    var spec = ctx.spec, p = spec.p, x = ctx.x, n = x.length, i;
    var mc = ctx.mixc || (ctx.mixc = mixConst(p));
    var d = function (t) { return mixLogpdf(mc, t) - K.normLogpdf(t, m, s); };
    var a0 = Infinity, b0 = -Infinity;
    for (i = 0; i < p.means.length; i++) { a0 = Math.min(a0, p.means[i] - 10 * p.stds[i]); b0 = Math.max(b0, p.means[i] + 10 * p.stds[i]); }
    var cuts = [a0], prev = ctx.lp[0] - K.normLogpdf(x[0], m, s);
    for (i = 1; i < n; i++) {
      var cur = ctx.lp[i] - K.normLogpdf(x[i], m, s);
      if ((prev > 0) !== (cur > 0) && isFinite(prev) && isFinite(cur)) {
        var a = x[i - 1], b = x[i], da = prev;
        for (var it = 0; it < 80 && b - a > 1e-15 * Math.max(1, Math.abs(a)); it++) {
          var c = 0.5 * (a + b), dc = d(c);
          if ((dc > 0) === (da > 0)) { a = c; da = dc; } else b = c;
        }
        var cx = 0.5 * (a + b);
        if (cx > a0 && cx < b0) cuts.push(cx);
      }
      prev = cur;
    }
    cuts.push(b0);
    var gx = spec.gl.x, gw = spec.gl.w, piece = spec.gl.piece;
    var pos = new K.Sum(), neg = new K.Sum(), tv = new K.Sum();
    for (var r = 0; r + 1 < cuts.length; r++) {
      var lo = cuts[r], hi = cuts[r + 1];
      if (!(hi > lo)) continue;
      var up = d(0.5 * (lo + hi)) > 0, np = Math.max(1, Math.ceil((hi - lo) / piece)), hw = (hi - lo) / np / 2;
      for (var j = 0; j < np; j++) {
        var mid = lo + (2 * j + 1) * hw;
        for (var k = 0; k < gx.length; k++) {
          var t = mid + hw * gx[k], lpt = mixLogpdf(mc, t), lqt = K.normLogpdf(t, m, s);
          if (lpt === -Infinity) continue;
          var pt = Math.exp(lpt), f = pt * (lpt - lqt) * gw[k] * hw;
          if (up) { pos.add(f); tv.add((pt - Math.exp(lqt)) * gw[k] * hw); } else neg.add(f);
        }
      }
    }
    return { positive: pos.value(), negative: neg.value(), total_variation: tv.value() };
  }

  function compute(ctx, state) {
    var m = state.mean, s = state.scale;
    var r = K.forwardIntegrals(ctx.x, ctx.pw, ctx.lp, m, s);
    var out = { mean: m, scale: s, kl: r.forward, cross_entropy: r.cross_entropy, entropy: r.entropy };
    if (ctx.spec.gl) {
      var a = signedAreas(ctx, m, s);
      out.positive = a.positive; out.negative = a.negative; out.total_variation = a.total_variation;
    }
    return out;
  }

  function build(ex, body) {
    var spec = ex.spec, W = ex.W, top = ex.narrow ? 44 : 30, H = top + 170 + 40 + 30 + 160 + 40;
    var svg = K.svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": spec.figure_label, "class": "kx-svg" }, body);
    K.svgEl("title", null, svg).textContent = spec.figure_label;
    ex.svg = svg;
    ex.densityPanel(svg, { x: 62, y: top, w: W - 80, h: 170 });
    var y2 = top + 170 + 40 + 30;
    var box2 = { x: 62, y: y2, w: W - 80, h: 160 };
    K.legendRow(svg, 62, y2 - 14, [["kx-pos", "adds to KL (p > q)", "rect"], ["kx-neg", "subtracts (p < q)", "rect"]], W - 80);
    ex.bot = new K.Panel(svg, box2, spec.view.lo, spec.view.hi, "p·log(p/q)");
    ex.botPlot = {
      pos: K.svgEl("path", { "class": "kx-pos" }, ex.bot.plot),
      neg: K.svgEl("path", { "class": "kx-neg" }, ex.bot.plot),
      line: K.svgEl("path", { "class": "kx-integrand" }, ex.bot.plot)
    };
    K.svgEl("text", { x: box2.x + box2.w / 2, y: H - 4, "text-anchor": "middle", "class": "kx-label" }, svg).textContent = "x";
    ex.follow = !(spec.axes && spec.axes.fixed);
  }

  function buildButtons(ex, body) {
    var bar = K.el("div", { "class": "kx-buttons", role: "group", "aria-label": "Axes" }, body);
    var b = ex.button(bar, "Axes follow the curves", { "data-action": "toggle-axes", "aria-pressed": String(ex.follow) });
    b.addEventListener("click", function () {
      ex.follow = !ex.follow;
      b.setAttribute("aria-pressed", String(ex.follow));
      if (!ex.follow) ex.fixedAxes = null;      // fix them again, at the current curves
      ex.render();
    });
  }

  /** The integrand on the drawing grid. */
  function integrand(ex, lq) {
    var n = ex.ctx.vx.length, vp = ex.vp, g = new Float64Array(n);
    for (var i = 0; i < n; i++) {
      var lp = ex.ctx.vlp[i];
      g[i] = lp === -Infinity ? 0 : vp[i] * (lp - lq[i]);
    }
    return g;
  }

  function nice(lo, hi) {
    var st = K.niceStep(hi - lo || 1, 4);
    return [Math.floor(lo / st - 0.05) * st, Math.ceil(hi / st + 0.05) * st];
  }

  function draw(ex, vals) {
    var qmax = 1 / (vals.scale * Math.sqrt(2 * Math.PI)), vx = ex.ctx.vx, n = vx.length, i;
    var lq = new Float64Array(n);
    for (i = 0; i < n; i++) lq[i] = K.normLogpdf(vx[i], vals.mean, vals.scale);
    var g = integrand(ex, lq);
    var glo = Math.min(0, K.minOf(g)), ghi = Math.max(0, K.maxOf(g));
    var B = ex.bot, yhi, ylim;
    if (ex.follow) {
      yhi = Math.max(ex.pmax, Math.min(qmax, 2.5 * ex.pmax)) * 1.08;
      var span = ghi - glo || 1;
      // keep the axis while the curve fills at least 40% of it (fewer rebuilds, a steadier picture)
      var fits = B.ylo !== undefined && glo >= B.ylo && ghi <= B.yhi && span >= 0.4 * (B.yhi - B.ylo);
      ylim = fits ? [B.ylo, B.yhi] : nice(glo, ghi);
    } else {
      if (!ex.fixedAxes) {
        // fixed axes: set once from p and the current q (generous), kept while q moves
        ex.fixedAxes = { yhi: Math.max(1.5 * ex.pmax, Math.min(qmax, 2.5 * ex.pmax) * 1.08),
          ylim: nice(Math.min(glo, -0.25 * ghi) * 1.4, ghi * 1.6) };
      }
      yhi = ex.fixedAxes.yhi;
      ylim = ex.fixedAxes.ylim;
    }
    ex.drawDensities(vals.mean, vals.scale, yhi);
    B.setY(ylim[0], ylim[1]);
    var pos = new Float64Array(n), neg = new Float64Array(n);
    for (i = 0; i < n; i++) { pos[i] = g[i] > 0 ? g[i] : 0; neg[i] = g[i] < 0 ? g[i] : 0; }
    ex.botPlot.pos.setAttribute("d", B.area(vx, pos));
    ex.botPlot.neg.setAttribute("d", B.area(vx, neg));
    ex.botPlot.line.setAttribute("d", B.path(vx, g));
  }

  return { compute: compute, build: build, buildButtons: buildButtons, draw: draw, exports: { signedAreas: signedAreas } };
});
