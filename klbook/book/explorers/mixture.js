/* klbook explorer part: the mixture bracket (chapter 7).
 * State {mu}: the mean of one component of q. The page recomputes KL(p || q) by composite
 * Gauss-Legendre quadrature and the bounds of klbook.mixture_kl in closed form. */
register("mixture_bracket", function (K) {
  "use strict";
  var LOG_2PI = Math.log(2 * Math.PI);

  function lse(a) {
    var m = -Infinity, i;
    for (i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
    if (m === -Infinity) return -Infinity;
    var s = 0;
    for (i = 0; i < a.length; i++) s += Math.exp(a[i] - m);
    return m + Math.log(s);
  }

  function logMix(x, mix) {
    var t = [];
    for (var k = 0; k < mix.weights.length; k++) {
      var z = (x - mix.means[k]) / mix.stds[k];
      t.push(Math.log(mix.weights[k]) - 0.5 * z * z - Math.log(mix.stds[k]) - K.LOG_SQRT_2PI);
    }
    return lse(t);
  }

  function qAt(spec, mu) {
    var q = spec.q, means = q.means.slice();
    means[spec.component] = mu;
    return { weights: q.weights, means: means, stds: q.stds };
  }

  /** KL(f || g) for 1-D mixtures: 20-point Gauss-Legendre on panels between m +- {0,1,3,6,12} s. */
  function quadKL(f, g, spec) {
    var lo = Infinity, hi = -Infinity, a, c, k, cuts = [];
    for (k = 0; k < f.means.length; k++) {
      lo = Math.min(lo, f.means[k] - 40 * f.stds[k]);
      hi = Math.max(hi, f.means[k] + 40 * f.stds[k]);
    }
    cuts.push(lo, hi);
    var cs = [0, 1, 3, 6, 12], mixes = [f, g];
    for (a = 0; a < 2; a++) for (k = 0; k < mixes[a].means.length; k++) for (c = 0; c < cs.length; c++) {
      cuts.push(Math.min(hi, Math.max(lo, mixes[a].means[k] - cs[c] * mixes[a].stds[k])));
      cuts.push(Math.min(hi, Math.max(lo, mixes[a].means[k] + cs[c] * mixes[a].stds[k])));
    }
    cuts.sort(function (u, v) { return u - v; });
    var sum = new K.Sum(), xn = spec.gl_nodes, wn = spec.gl_weights, parts = spec.panel_parts;
    for (var i = 0; i + 1 < cuts.length; i++) {
      if (!(cuts[i + 1] > cuts[i])) continue;
      var h = (cuts[i + 1] - cuts[i]) / parts;
      for (var p = 0; p < parts; p++) {
        var a0 = cuts[i] + p * h, half = h / 2, mid = a0 + half;
        for (var j = 0; j < xn.length; j++) {
          var x = mid + half * xn[j], lf = logMix(x, f);
          if (lf > -745) sum.add(half * wn[j] * Math.exp(lf) * (lf - logMix(x, g)));
        }
      }
    }
    return Math.max(0, sum.value());
  }

  function klGauss(ma, sa, mb, sb) {
    return Math.max(0, Math.log(sb / sa) + (sa * sa + (ma - mb) * (ma - mb)) / (2 * sb * sb) - 0.5);
  }
  function logZ(ma, sa, mb, sb) {
    var v = sa * sa + sb * sb;
    return -0.5 * (LOG_2PI + Math.log(v) + (ma - mb) * (ma - mb) / v);
  }

  /** Hershey and Olsen's variational upper bound by their fixed-point iteration (as klbook). */
  function variationalUpper(lpi, lom, kl) {
    var A = lpi.length, B = lom.length, a, b, phi = [], psi = [], best = Infinity;
    for (a = 0; a < A; a++) { phi.push([]); psi.push([]); for (b = 0; b < B; b++) { phi[a].push(lpi[a] + lom[b]); psi[a].push(0); } }
    for (var it = 0; it < 500; it++) {
      for (b = 0; b < B; b++) {
        var col = [];
        for (a = 0; a < A; a++) col.push(phi[a][b]);
        var cs = lse(col);
        for (a = 0; a < A; a++) psi[a][b] = lom[b] + phi[a][b] - cs;
      }
      var val = 0;
      for (a = 0; a < A; a++) for (b = 0; b < B; b++) val += Math.exp(phi[a][b]) * (phi[a][b] - psi[a][b] + kl[a][b]);
      if (val < best - 1e-15 * Math.abs(best) || !isFinite(best)) {
        var improved = best - val;
        best = val;
        if (improved < 1e-14 * Math.max(1, Math.abs(val))) break;
      } else break;
      for (a = 0; a < A; a++) {
        var t = [];
        for (b = 0; b < B; b++) t.push(psi[a][b] - kl[a][b]);
        var rs = lse(t);
        for (b = 0; b < B; b++) phi[a][b] = lpi[a] + t[b] - rs;
      }
    }
    return Math.max(best, 0);
  }

  /** The bounds and the approximation of klbook.mixture_kl for 1-D mixtures. */
  function bracket(f, g) {
    var A = f.weights.length, B = g.weights.length, a, b, c;
    var lpi = f.weights.map(Math.log), lom = g.weights.map(Math.log);
    var loff = 0, upff = 0, lofg = 0, upfg = 0, approx = 0, klfg = [];
    for (a = 0; a < A; a++) {
      var ent = 0.5 * (1 + LOG_2PI) + Math.log(f.stds[a]);
      var t1 = [], t2 = [], t3 = [], t4 = [], t5 = [], t6 = [];
      for (c = 0; c < A; c++) {
        var kff = klGauss(f.means[a], f.stds[a], f.means[c], f.stds[c]);
        t1.push(lpi[c] - (ent + kff));
        t2.push(lpi[c] + logZ(f.means[a], f.stds[a], f.means[c], f.stds[c]));
        t5.push(lpi[c] - kff);
      }
      klfg.push([]);
      for (b = 0; b < B; b++) {
        var kfg = klGauss(f.means[a], f.stds[a], g.means[b], g.stds[b]);
        klfg[a].push(kfg);
        t3.push(lom[b] - (ent + kfg));
        t4.push(lom[b] + logZ(f.means[a], f.stds[a], g.means[b], g.stds[b]));
        t6.push(lom[b] - kfg);
      }
      loff += f.weights[a] * lse(t1);
      upff += f.weights[a] * lse(t2);
      lofg += f.weights[a] * lse(t3);
      upfg += f.weights[a] * lse(t4);
      approx += f.weights[a] * (lse(t5) - lse(t6));
    }
    var vu = variationalUpper(lpi, lom, klfg);
    return { lower: Math.max(0, loff - upfg), upper: Math.min(upff - lofg, vu), variational: approx };
  }

  function prepare(spec) {
    var v = spec.view, vx = new Float64Array(v.n), vlp = new Float64Array(v.n);
    var p = { weights: spec.p.weights, means: spec.p.means, stds: spec.p.stds };
    for (var i = 0; i < v.n; i++) { vx[i] = v.lo + (v.hi - v.lo) * i / (v.n - 1); vlp[i] = logMix(vx[i], p); }
    return { spec: spec, p: p, vx: vx, vlp: vlp };
  }

  function compute(ctx, state) {
    var q = qAt(ctx.spec, state.mu), br = bracket(ctx.p, q), kl = quadKL(ctx.p, q, ctx.spec);
    kl = Math.min(Math.max(kl, br.lower), br.upper);
    return { kl: kl, lower: br.lower, upper: br.upper, variational: br.variational, q: q };
  }

  function build(ex, body) {
    var spec = ex.spec, W = ex.W, top = 34, h1 = 190, h2 = 44, gap = 70, i;
    var H = top + h1 + gap + h2 + 40 + (ex.narrow ? 36 : 20);
    var svg = K.svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": spec.figure_label, "class": "kx-svg" }, body);
    K.svgEl("title", null, svg).textContent = spec.figure_label;
    var P = new K.Panel(svg, { x: 62, y: top, w: W - 80, h: h1 }, spec.view.lo, spec.view.hi, "density", "x");
    var pmax = 0;
    for (i = 0; i < ex.ctx.vx.length; i++) pmax = Math.max(pmax, Math.exp(ex.ctx.vlp[i]));
    var qmax = 0;
    for (i = 0; i < spec.q.stds.length; i++) qmax = Math.max(qmax, spec.q.weights[i] / (spec.q.stds[i] * Math.sqrt(2 * Math.PI)));
    P.setY(0, 1.1 * Math.max(pmax, qmax));
    var py = new Float64Array(ex.ctx.vx.length);
    for (i = 0; i < py.length; i++) py[i] = Math.exp(ex.ctx.vlp[i]);
    K.svgEl("path", { d: P.path(ex.ctx.vx, py), "class": "kx-p" }, P.plot);
    ex.qPath = K.svgEl("path", { "class": "kx-q" }, P.plot);
    K.legend(svg, 62 + W - 80 - 8, 14, [["kx-p", "p"], ["kx-q", "q"]], { right: true });
    // the legend of the nats line sits between the two panels, never over data or labels
    // on a phone the row wraps to two lines: the nats panel starts below the legend's last line
    var ly = top + h1 + 50, lh = K.legendRow(svg, 62, ly, [["kx-pos", "guaranteed bracket", "rect"], ["kx-p", "KL"],
      ["kx-accent", "Hershey–Olsen approximation"]], W - 80);
    var by = Math.max(top + h1 + gap, ly + lh + 2);
    H += by - (top + h1 + gap);
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    var B = new K.Panel(svg, { x: 62, y: by, w: W - 80, h: h2 }, 0, 1, "", "nats (axis follows the bracket)");
    B.noYTicks = true;
    B.setY(0, 1);
    ex.band = K.svgEl("rect", { y: B.sy(0.85).toFixed(2), height: (B.sy(0.15) - B.sy(0.85)).toFixed(2), "class": "kx-pos" }, B.plot);
    ex.bar = K.svgEl("line", { y1: B.sy(0.95).toFixed(2), y2: B.sy(0.05).toFixed(2), "class": "kx-p" }, B.plot);
    ex.diamond = K.svgEl("path", { "class": "kx-accent" }, B.plot);
    ex.P = P;
    ex.B = B;
  }

  function draw(ex, v) {
    var P = ex.P, B = ex.B, vx = ex.ctx.vx, qy = new Float64Array(vx.length);
    // nats axis: from 0 to a round number above the current bracket and approximation
    var big = Math.max(v.upper, v.variational, v.kl, 1e-3), step = K.niceStep(1.2 * big, 4);
    var xhi = Math.ceil(1.2 * big / step) * step;
    if (xhi !== B.xhi) { B.xhi = xhi; B.ylo = null; B.setY(0, 1); }
    for (var i = 0; i < vx.length; i++) qy[i] = Math.exp(logMix(vx[i], v.q));
    ex.qPath.setAttribute("d", P.path(vx, qy));
    var x0 = B.sx(v.lower), x1 = B.sx(v.upper);
    ex.band.setAttribute("x", x0.toFixed(2));
    ex.band.setAttribute("width", Math.max(1, x1 - x0).toFixed(2));
    var xk = B.sx(v.kl).toFixed(2);
    ex.bar.setAttribute("x1", xk);
    ex.bar.setAttribute("x2", xk);
    var xa = B.sx(v.variational), ya = B.sy(0.5);
    ex.diamond.setAttribute("d", "M" + (xa - 6).toFixed(2) + " " + ya.toFixed(2) + "L" + xa.toFixed(2) + " " + (ya - 8).toFixed(2) +
      "L" + (xa + 6).toFixed(2) + " " + ya.toFixed(2) + "L" + xa.toFixed(2) + " " + (ya + 8).toFixed(2) + "Z");
  }

  return { prepare: prepare, compute: compute, build: build, draw: draw,
    exports: { mixtureQuadKL: quadKL, mixtureBracket: bracket } };
});
