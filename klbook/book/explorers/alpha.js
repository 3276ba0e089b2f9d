/* klbook explorer part: the alpha family (chapter 6).
 * One slider over the stops alpha_k for which klbook fitted the best Gaussian q*;
 * the page recomputes D^(alpha)(p || q*) and both KLs of q* on the grid. */
register("alpha", function (K) {
  "use strict";

  /** Minka's alpha-divergence D^(alpha)(p||q) =
   *  sum w [alpha p + (1 - alpha) q - p^alpha q^(1 - alpha)] / (alpha (1 - alpha)),
   *  with KL(p||q) at alpha = 1 and KL(q||p) at alpha = 0. Every term is >= 0. */
  function alphaDivergence(x, w, pw, lp, m, s, alpha) {
    if (alpha === 1) return K.forwardIntegrals(x, pw, lp, m, s).forward;
    if (alpha === 0) return K.reverseKL(x, w, lp, m, s);
    var acc = new K.Sum(), d = alpha * (1 - alpha), c = Math.log(s) + K.LOG_SQRT_2PI;
    for (var i = 0; i < x.length; i++) {
      var z = (x[i] - m) / s, lq = -0.5 * z * z - c;
      var qv = Math.exp(lq), mixed;
      if (lp[i] === -Infinity) {
        if (alpha < 0 && qv > 0) return Infinity;
        mixed = 0;
      } else {
        mixed = Math.exp(alpha * lp[i] + (1 - alpha) * lq);
      }
      acc.add(alpha * pw[i] + w[i] * ((1 - alpha) * qv - mixed));
    }
    return acc.value() / d;
  }

  function compute(ctx, state) {
    var f = ctx.spec.fits[state.index], a = f.alpha, m = f.mean, s = f.std;
    return {
      alpha: a, mean: m, scale: s,
      alpha_divergence: alphaDivergence(ctx.x, ctx.w, ctx.pw, ctx.lp, m, s, a),
      forward: K.forwardIntegrals(ctx.x, ctx.pw, ctx.lp, m, s).forward,
      reverse: K.reverseKL(ctx.x, ctx.w, ctx.lp, m, s)
    };
  }

  function build(ex, body) {
    var spec = ex.spec, W = ex.W, top = ex.narrow ? 76 : 46, H = top + 230 + 40;
    var svg = K.svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": spec.figure_label, "class": "kx-svg" }, body);
    K.svgEl("title", null, svg).textContent = spec.figure_label;
    ex.svg = svg;
    ex.densityPanel(svg, { x: 62, y: top, w: W - 80, h: 230 }, [
      ["kx-ref kx-ref-forward", spec.reference_labels.forward, "fwd"],
      ["kx-ref kx-ref-reverse", spec.reference_labels.reverse, "rev"]
    ]);
    K.svgEl("text", { x: 62 + (W - 80) / 2, y: H - 4, "text-anchor": "middle", "class": "kx-label" }, svg).textContent = "x";
    // one density axis for every stop of the slider: the tallest of p, the fits and the references
    var tall = ex.pmax, all = spec.fits.concat([spec.reference_fits.forward, spec.reference_fits.reverse]);
    for (var i = 0; i < all.length; i++) tall = Math.max(tall, 1 / (all[i].std * Math.sqrt(2 * Math.PI)));
    ex.yfixed = tall * 1.05;
  }

  function drawStatic(ex) {
    var refs = ex.spec.reference_fits, names = ["forward", "reverse"], key = ["fwd", "rev"];
    var vx = ex.ctx.vx, n = vx.length;
    for (var r = 0; r < 2; r++) {
      var f = refs[names[r]], y = new Float64Array(n);
      for (var i = 0; i < n; i++) y[i] = Math.exp(K.normLogpdf(vx[i], f.mean, f.std));
      ex.topPlot[key[r]].setAttribute("d", ex.top.path(vx, y));
    }
  }

  function draw(ex, vals) { ex.drawDensities(vals.mean, vals.scale, ex.yfixed); }

  function controlText(ex, c) {
    if (c.param !== "index") return null;
    var a = ex.spec.fits[ex.state.index].alpha;
    return { shown: a, text: "α = " + K.fmtFixed(a, 2) };
  }

  return { compute: compute, build: build, draw: draw, drawStatic: drawStatic, controlText: controlText,
    exports: { alphaDivergence: alphaDivergence } };
});
