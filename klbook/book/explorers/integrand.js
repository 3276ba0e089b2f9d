/* klbook explorer part: the integrand of KL(p || q) (chapter 2).
 * q = N(mean, scale^2) from two sliders; top panel: p and q; bottom panel: the
 * integrand p log(p/q), its positive and negative areas shaded. */
register("integrand", function (K) {
  "use strict";

  function compute(ctx, state) {
    var m = state.mean, s = state.scale;
    var r = K.forwardIntegrals(ctx.x, ctx.pw, ctx.lp, m, s);
    return { mean: m, scale: s, kl: r.forward, cross_entropy: r.cross_entropy, entropy: r.entropy };
  }

  function build(ex, body) {
    var spec = ex.spec, H = ex.narrow ? 470 : 456, W = ex.W, top = ex.narrow ? 44 : 30;
    var svg = K.svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": spec.figure_label, "class": "kx-svg" }, body);
    K.svgEl("title", null, svg).textContent = spec.figure_label;
    ex.svg = svg;
    ex.densityPanel(svg, { x: 62, y: top, w: W - 80, h: 170 });
    var box2 = { x: 62, y: top + 216, w: W - 80, h: 160 };
    ex.bot = new K.Panel(svg, box2, spec.view.lo, spec.view.hi, "p·log(p/q)");
    ex.botPlot = {
      pos: K.svgEl("path", { "class": "kx-pos" }, ex.bot.plot),
      neg: K.svgEl("path", { "class": "kx-neg" }, ex.bot.plot),
      line: K.svgEl("path", { "class": "kx-integrand" }, ex.bot.plot)
    };
    K.legend(svg, box2.x + box2.w - 10, box2.y + 14,
      [["kx-pos", "adds to KL (p > q)", "rect"], ["kx-neg", "subtracts (p < q)", "rect"]], { right: true });
    K.svgEl("text", { x: box2.x + box2.w / 2, y: H - 4, "text-anchor": "middle", "class": "kx-label" }, svg).textContent = "x";
  }

  function draw(ex, vals) {
    var qmax = 1 / (vals.scale * Math.sqrt(2 * Math.PI));
    var yhi = Math.max(ex.pmax, Math.min(qmax, 2.5 * ex.pmax)) * 1.08;
    var lq = ex.drawDensities(vals.mean, vals.scale, yhi);
    var vx = ex.ctx.vx, n = vx.length, vp = ex.vp, i;
    var g = new Float64Array(n), pos = new Float64Array(n), neg = new Float64Array(n);
    for (i = 0; i < n; i++) {
      var lp = ex.ctx.vlp[i];
      g[i] = lp === -Infinity ? 0 : vp[i] * (lp - lq[i]);
      pos[i] = g[i] > 0 ? g[i] : 0;
      neg[i] = g[i] < 0 ? g[i] : 0;
    }
    var lo = Math.min(0, K.minOf(g)), hi = Math.max(0, K.maxOf(g)), span = hi - lo || 1;
    var B = ex.bot, st = K.niceStep(span, 4);
    // keep the axis while the curve fills at least 40% of it (fewer rebuilds, a steadier picture)
    var fits = B.ylo !== undefined && lo >= B.ylo && hi <= B.yhi && span >= 0.4 * (B.yhi - B.ylo);
    if (!fits) B.setY(Math.floor(lo / st - 0.05) * st, Math.ceil(hi / st + 0.05) * st);
    ex.botPlot.pos.setAttribute("d", B.area(vx, pos));
    ex.botPlot.neg.setAttribute("d", B.area(vx, neg));
    ex.botPlot.line.setAttribute("d", B.path(vx, g));
  }

  return { compute: compute, build: build, draw: draw };
});
