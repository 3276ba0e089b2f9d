/* klbook explorer core: grid quadrature of KL and friends, drawn as inline SVG.
 *
 * Python (klbook.book.explorers) decides everything that comes from klbook -- the
 * quadrature nodes, log p on them, slider ranges, initial values and optima --
 * and writes it as a JSON spec next to a container. This file only recomputes,
 * live, what depends on the sliders: q's log-density, the divergences on the
 * grid, and the drawing. No dependencies, nothing fetched.
 *
 * Conventions (the same as klbook): natural logarithms (nats), 0 log 0 = 0,
 * a divergence is +Infinity when its integrand is, never NaN.
 *
 * In a page it defines window.klbookExplorers once (a second copy of this
 * script with the same version returns at once); in Node it is a CommonJS
 * module, which is how the tests run the numerics.
 */
(function (root, factory) {
  "use strict";
  var VERSION = "1.0.0";
  if (typeof module === "object" && module.exports) {
    module.exports = factory(VERSION);
  } else if (!(root.klbookExplorers && root.klbookExplorers.version === VERSION)) {
    root.klbookExplorers = factory(VERSION);
  }
})(typeof self !== "undefined" ? self : this, function (VERSION) {
  "use strict";

  var LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
  var SVGNS = "http://www.w3.org/2000/svg";

  /* ------------------------------------------------------------------ */
  /* Numerics                                                             */
  /* ------------------------------------------------------------------ */

  /** log N(x; m, s^2). */
  function normLogpdf(x, m, s) {
    var z = (x - m) / s;
    return -0.5 * z * z - Math.log(s) - LOG_SQRT_2PI;
  }

  /** Nodes and weights of a quadrature spec.
   *  {rule: "trapezoid", lo, hi, n}: x_i = lo + i h, h = (hi - lo)/(n - 1),
   *  weights h (h/2 at both ends).  {rule: "nodes", x: [...], w: [...]}. */
  function makeQuad(q) {
    var x, w, i, n;
    if (q.rule === "trapezoid") {
      n = q.n;
      var h = (q.hi - q.lo) / (n - 1);
      x = new Float64Array(n);
      w = new Float64Array(n);
      for (i = 0; i < n; i++) {
        x[i] = q.lo + i * h;
        w[i] = h;
      }
      w[0] = h / 2;
      w[n - 1] = h / 2;
    } else if (q.rule === "nodes") {
      x = Float64Array.from(q.x);
      w = Float64Array.from(q.w);
    } else {
      throw new Error("klbook explorer: unknown quadrature rule " + q.rule);
    }
    return { x: x, w: w };
  }

  /** Uniform drawing grid {lo, hi, n}. */
  function makeView(v) {
    var x = new Float64Array(v.n);
    var h = (v.hi - v.lo) / (v.n - 1);
    for (var i = 0; i < v.n; i++) x[i] = v.lo + i * h;
    return x;
  }

  /** log p at the points xs: a Gaussian mixture defined in the spec (log-sum-exp),
   *  or a table computed by klbook (null stands for -Infinity). */
  function logp(p, xs, table) {
    var n = xs.length, out = new Float64Array(n), i, k;
    if (table) {
      if (table.length !== n) throw new Error("klbook explorer: log p table has the wrong length");
      for (i = 0; i < n; i++) out[i] = table[i] === null ? -Infinity : table[i];
      return out;
    }
    if (p.kind !== "mixture") throw new Error("klbook explorer: p needs a table or a mixture definition");
    var K = p.weights.length, lw = [], terms = new Float64Array(K);
    for (k = 0; k < K; k++) lw.push(Math.log(p.weights[k]));
    for (i = 0; i < n; i++) {
      var mx = -Infinity;
      for (k = 0; k < K; k++) {
        terms[k] = lw[k] + normLogpdf(xs[i], p.means[k], p.stds[k]);
        if (terms[k] > mx) mx = terms[k];
      }
      if (mx === -Infinity) { out[i] = -Infinity; continue; }
      var s = 0;
      for (k = 0; k < K; k++) s += Math.exp(terms[k] - mx);
      out[i] = mx + Math.log(s);
    }
    return out;
  }

  /* Compensated (Neumaier) summation of w_i f_i, used by every integral below. */
  function Sum() { this.s = 0; this.c = 0; }
  Sum.prototype.add = function (v) {
    var t = this.s + v;
    if (Math.abs(this.s) >= Math.abs(v)) this.c += (this.s - t) + v; else this.c += (v - t) + this.s;
    this.s = t;
  };
  Sum.prototype.value = function () { return this.s + this.c; };

  /** Grid integrals of p against q = N(m, s^2), with pw_i = w_i p(x_i) precomputed:
   *  forward = sum pw (log p - log q) = KL(p||q),
   *  cross   = -sum pw log q          = H(p, q),
   *  entropy = -sum pw log p          = H(p).   Terms with p = 0 are 0. */
  function forwardIntegrals(x, pw, lp, m, s) {
    var fw = new Sum(), cr = new Sum(), en = new Sum(), c = Math.log(s) + LOG_SQRT_2PI;
    for (var i = 0; i < x.length; i++) {
      if (pw[i] === 0) continue;
      var z = (x[i] - m) / s, lq = -0.5 * z * z - c;
      fw.add(pw[i] * (lp[i] - lq));
      cr.add(-pw[i] * lq);
      en.add(-pw[i] * lp[i]);
    }
    return { forward: fw.value(), cross_entropy: cr.value(), entropy: en.value() };
  }

  /** Index range [i0, i1) of the nodes within 40 sd of m (q underflows to exactly 0 beyond),
   *  found by bisection on the increasing nodes. */
  function qRange(x, m, s) {
    var lo = m - 40 * s, hi = m + 40 * s;
    function first(v) {
      var a = 0, b = x.length;
      while (a < b) { var h = (a + b) >> 1; if (x[h] < v) a = h + 1; else b = h; }
      return a;
    }
    return [Math.max(0, first(lo) - 1), Math.min(x.length, first(hi) + 1)];
  }

  /** KL(q||p) = sum w q (log q - log p); +Infinity where q > 0 and p = 0. */
  function reverseKL(x, w, lp, m, s) {
    var acc = new Sum(), c = Math.log(s) + LOG_SQRT_2PI, r = qRange(x, m, s);
    for (var i = r[0]; i < r[1]; i++) {
      var z = (x[i] - m) / s, lq = -0.5 * z * z - c;
      var qw = w[i] * Math.exp(lq);
      if (qw === 0) continue;
      if (lp[i] === -Infinity) return Infinity;
      acc.add(qw * (lq - lp[i]));
    }
    return acc.value();
  }

  /** Minka's alpha-divergence D_alpha(p||q) =
   *  sum w [alpha p + (1 - alpha) q - p^alpha q^(1 - alpha)] / (alpha (1 - alpha)),
   *  with KL(p||q) at alpha = 1 and KL(q||p) at alpha = 0. Every term is >= 0. */
  function alphaDivergence(x, w, pw, lp, m, s, alpha) {
    if (alpha === 1) return forwardIntegrals(x, pw, lp, m, s).forward;
    if (alpha === 0) return reverseKL(x, w, lp, m, s);
    var acc = new Sum(), d = alpha * (1 - alpha), c = Math.log(s) + LOG_SQRT_2PI;
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

  /** Gradient of the grid objective with respect to (mu, log sigma), exact for the sum:
   *  forward: dF/dmu = -sum pw z/s,            dF/dlog s = sum pw (1 - z^2);
   *  reverse: dG/dmu = sum w q (z/s)(lq - lp + 1), dG/dlog s = sum w q (z^2 - 1)(lq - lp + 1),
   *  with z = (x - mu)/s, lq = log q. Returns {value, g: [dmu, dlogs]}. */
  function objective(ctx, direction, m, logs) {
    var s = Math.exp(logs), x = ctx.x, lp = ctx.lp, c = logs + LOG_SQRT_2PI, i, z, lq;
    var v = new Sum(), g0 = new Sum(), g1 = new Sum();
    if (direction === "forward") {
      var pw = ctx.pw;
      for (i = 0; i < x.length; i++) {
        if (pw[i] === 0) continue;
        z = (x[i] - m) / s; lq = -0.5 * z * z - c;
        v.add(pw[i] * (lp[i] - lq));
        g0.add(-pw[i] * z / s);
        g1.add(pw[i] * (1 - z * z));
      }
    } else {
      var w = ctx.w, r = qRange(x, m, s);
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
    }
    return { value: v.value(), g: [g0.value(), g1.value()] };
  }

  /** Gradient descent on (mu, log sigma) with a backtracking (Armijo) step, kept inside
   *  the box [lo, hi] of the sliders. Returns the path of iterates [[mu, log s, value], ...]. */
  function descend(ctx, direction, start, box, maxIter, gtol) {
    maxIter = maxIter || 2000;
    gtol = gtol || 1e-9;
    var th = [start[0], start[1]], cur = objective(ctx, direction, th[0], th[1]);
    var path = [[th[0], th[1], cur.value]], step = 0.5;
    function clip(v, k) { return Math.min(box[k][1], Math.max(box[k][0], v)); }
    for (var it = 0; it < maxIter; it++) {
      var g = cur.g, gn = Math.max(Math.abs(g[0]), Math.abs(g[1]));
      if (!(gn > gtol)) break;
      var accepted = false;
      for (var tries = 0; tries < 60; tries++) {
        var t0 = clip(th[0] - step * g[0], 0), t1 = clip(th[1] - step * g[1], 1);
        var dec = g[0] * (th[0] - t0) + g[1] * (th[1] - t1);
        if (dec <= 0) break;
        var nxt = objective(ctx, direction, t0, t1);
        if (nxt.value <= cur.value - 1e-4 * dec) {
          th = [t0, t1]; cur = nxt; accepted = true; step *= 1.6;
          break;
        }
        step *= 0.5;
      }
      if (!accepted) break;
      path.push([th[0], th[1], cur.value]);
    }
    return path;
  }

  /** Both divergences on an nm x ns grid of (mu, log sigma) over the sliders' box, for the
   *  landscape's colours only (the numbers shown come from compute()). Forward KL from p's
   *  grid moments: KL = -H(p) + log s + log sqrt(2 pi) + (M2 - 2 mu M1 + mu^2 M0) / (2 s^2);
   *  reverse KL on every k-th node within 12 sd of mu (k h <= s/10): a few parts in 10^4 at worst,
   *  invisible in a colour, and up to 100 times faster. */
  function landscape(ctx, box, nm, ns) {
    var x = ctx.x, pw = ctx.pw, lp = ctx.lp, w = ctx.w, n = x.length, i, j, k;
    var M0 = 0, M1 = 0, M2 = 0, negH = 0;
    for (i = 0; i < n; i++) {
      if (pw[i] === 0) continue;
      M0 += pw[i]; M1 += pw[i] * x[i]; M2 += pw[i] * x[i] * x[i]; negH += pw[i] * lp[i];
    }
    var uniform = ctx.spec.quad.rule === "trapezoid", h = uniform ? x[1] - x[0] : 0;
    var fwd = new Float64Array(nm * ns), rev = new Float64Array(nm * ns);
    for (j = 0; j < ns; j++) {
      var ls = box[1][0] + (box[1][1] - box[1][0]) * j / (ns - 1), s = Math.exp(ls), c = ls + LOG_SQRT_2PI;
      var stride = uniform ? Math.max(1, Math.floor(s / (10 * h))) : 1;
      for (i = 0; i < nm; i++) {
        var m = box[0][0] + (box[0][1] - box[0][0]) * i / (nm - 1);
        fwd[j * nm + i] = negH + c * M0 + (M2 - 2 * m * M1 + m * m * M0) / (2 * s * s);
        var a = Math.max(0, Math.floor((m - 12 * s - x[0]) / (h || 1))), b = n;
        if (!uniform) a = 0; else b = Math.min(n, Math.ceil((m + 12 * s - x[0]) / h) + 1);
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

  /** Everything the quadrature needs, computed once per explorer. */
  function prepare(spec) {
    var quad = makeQuad(spec.quad);
    var view = makeView(spec.view);
    var lp = logp(spec.p, quad.x, spec.quad.logp);
    var pw = new Float64Array(lp.length);
    for (var i = 0; i < lp.length; i++) pw[i] = lp[i] === -Infinity ? 0 : quad.w[i] * Math.exp(lp[i]);
    return {
      spec: spec,
      x: quad.x,
      w: quad.w,
      lp: lp,
      pw: pw,
      vx: view,
      vlp: logp(spec.p, view, spec.view.logp)
    };
  }

  /** q's (mean, std) in a state of the explorer. */
  function qParams(spec, state) {
    if (spec.kind === "integrand") return { m: state.mean, s: state.scale };
    if (spec.kind === "forward_reverse") return { m: state.mean, s: Math.exp(state.log_scale) };
    if (spec.kind === "alpha") {
      var f = spec.fits[state.index];
      return { m: f.mean, s: f.std };
    }
    throw new Error("klbook explorer: unknown kind " + spec.kind);
  }

  /** Every number an explorer shows, for a state (the sliders' values).
   *  The page and the tests both call this. */
  function compute(ctx, state) {
    var spec = ctx.spec, q = qParams(spec, state), r;
    if (spec.kind === "integrand") {
      r = forwardIntegrals(ctx.x, ctx.pw, ctx.lp, q.m, q.s);
      return { mean: q.m, scale: q.s, kl: r.forward, cross_entropy: r.cross_entropy, entropy: r.entropy };
    }
    if (spec.kind === "forward_reverse") {
      return {
        mean: q.m, scale: q.s,
        forward: forwardIntegrals(ctx.x, ctx.pw, ctx.lp, q.m, q.s).forward,
        reverse: reverseKL(ctx.x, ctx.w, ctx.lp, q.m, q.s)
      };
    }
    var a = spec.fits[state.index].alpha;
    return {
      alpha: a, mean: q.m, scale: q.s,
      alpha_divergence: alphaDivergence(ctx.x, ctx.w, ctx.pw, ctx.lp, q.m, q.s, a),
      forward: forwardIntegrals(ctx.x, ctx.pw, ctx.lp, q.m, q.s).forward,
      reverse: reverseKL(ctx.x, ctx.w, ctx.lp, q.m, q.s)
    };
  }

  /* ------------------------------------------------------------------ */
  /* Formatting and drawing                                               */
  /* ------------------------------------------------------------------ */

  /** A number as the reader sees it: fixed decimals, a true minus sign, "∞". */
  function fmt(v, digits) {
    if (v === Infinity) return "∞";
    if (v === -Infinity) return "−∞";
    if (v !== v) return "undefined";
    var d = digits === undefined ? 4 : digits;
    var a = Math.abs(v);
    var t = (a !== 0 && (a < Math.pow(10, -d) || a >= 1e6)) ? v.toExponential(3) : v.toFixed(d);
    if (/^-0(\.0*)?$/.test(t)) t = t.slice(1);
    return t.replace(/-/g, "−");
  }

  function niceStep(span, count) {
    var raw = span / Math.max(1, count);
    var mag = Math.pow(10, Math.floor(Math.log(raw) / Math.LN10));
    var r = raw / mag;
    return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
  }

  function ticks(lo, hi, count) {
    if (!(hi > lo)) return [lo];
    var st = niceStep(hi - lo, count), out = [];
    for (var t = Math.ceil(lo / st - 1e-9) * st; t <= hi + 1e-9 * st; t += st) out.push(Math.abs(t) < 1e-12 * st ? 0 : t);
    return out;
  }

  /** Tick labels with as many decimals as the tick step needs. */
  function tickLabel(t, step) {
    var d = Math.max(0, Math.min(6, -Math.floor(Math.log(step) / Math.LN10 + 1e-9)));
    return fmt(t, d);
  }

  function el(tag, attrs, parent, ns) {
    var e = ns ? document.createElementNS(SVGNS, tag) : document.createElement(tag);
    if (attrs) for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function svgEl(tag, attrs, parent) { return el(tag, attrs, parent, true); }

  var clipCounter = 0;

  /** A plotting panel: an axes box inside the SVG with fixed x range. */
  function Panel(svg, box, xlo, xhi, ylabel) {
    this.box = box;
    this.xlo = xlo; this.xhi = xhi;
    this.g = svgEl("g", { "class": "kx-panel" }, svg);
    this.axes = svgEl("g", { "class": "kx-axes" }, this.g);
    var clipId = "kx-clip-" + (++clipCounter);
    var defs = svgEl("defs", null, this.g);
    var cp = svgEl("clipPath", { id: clipId }, defs);
    svgEl("rect", { x: box.x, y: box.y, width: box.w, height: box.h }, cp);
    this.plot = svgEl("g", { "clip-path": "url(#" + clipId + ")" }, this.g);
    this.ylabel = ylabel;
  }
  Panel.prototype.sx = function (x) { return this.box.x + (x - this.xlo) / (this.xhi - this.xlo) * this.box.w; };
  Panel.prototype.sy = function (y) { return this.box.y + this.box.h - (y - this.ylo) / (this.yhi - this.ylo) * this.box.h; };
  Panel.prototype.setY = function (ylo, yhi) {
    if (ylo === this.ylo && yhi === this.yhi) return;
    this.ylo = ylo; this.yhi = yhi;
    var a = this.axes, b = this.box, i, t;
    while (a.firstChild) a.removeChild(a.firstChild);
    svgEl("rect", { x: b.x, y: b.y, width: b.w, height: b.h, "class": "kx-frame" }, a);
    var yt = ticks(ylo, yhi, 4), ys = niceStep(yhi - ylo, 4);
    for (i = 0; i < yt.length; i++) {
      var y = this.sy(yt[i]);
      svgEl("line", { x1: b.x, x2: b.x + b.w, y1: y, y2: y, "class": yt[i] === 0 ? "kx-zero" : "kx-grid" }, a);
      t = svgEl("text", { x: b.x - 6, y: y + 4, "text-anchor": "end", "class": "kx-tick" }, a);
      t.textContent = tickLabel(yt[i], ys);
    }
    var xt = ticks(this.xlo, this.xhi, 8), xs = niceStep(this.xhi - this.xlo, 8);
    for (i = 0; i < xt.length; i++) {
      var x = this.sx(xt[i]);
      svgEl("line", { x1: x, x2: x, y1: b.y + b.h, y2: b.y + b.h + 4, "class": "kx-tickmark" }, a);
      t = svgEl("text", { x: x, y: b.y + b.h + 17, "text-anchor": "middle", "class": "kx-tick" }, a);
      t.textContent = tickLabel(xt[i], xs);
    }
    t = svgEl("text", { x: 14, y: b.y + b.h / 2, "text-anchor": "middle", "class": "kx-label",
      transform: "rotate(-90 14 " + (b.y + b.h / 2) + ")" }, a);
    t.textContent = this.ylabel;
  };
  /** "M x y L ..." for the points (xs[i], ys[i]); non-finite ys are clamped to the panel's edge. */
  Panel.prototype.path = function (xs, ys) {
    var parts = [], pad = (this.yhi - this.ylo) * 0.5;
    for (var i = 0; i < xs.length; i++) {
      var y = ys[i];
      if (!(y > this.ylo - pad)) y = this.ylo - pad;
      if (y > this.yhi + pad) y = this.yhi + pad;
      parts.push((i ? "L" : "M") + this.sx(xs[i]).toFixed(2) + " " + this.sy(y).toFixed(2));
    }
    return parts.join("");
  };
  /** Closed area between the curve and y = 0. */
  Panel.prototype.area = function (xs, ys) {
    var y0 = this.sy(0).toFixed(2);
    return "M" + this.sx(xs[0]).toFixed(2) + " " + y0 + "L" + this.path(xs, ys).slice(1) +
      "L" + this.sx(xs[xs.length - 1]).toFixed(2) + " " + y0 + "Z";
  };

  function legend(svg, x, y, items) {
    var g = svgEl("g", { "class": "kx-legend" }, svg), longest = 0, texts = [];
    for (var j = 0; j < items.length; j++) longest = Math.max(longest, items[j][1].length);
    var bg = svgEl("rect", { x: x - 6, y: y - 10, width: 40 + 5.8 * longest, height: 16 * items.length + 4,
      rx: 3, "class": "kx-legend-bg" }, g);
    for (var i = 0; i < items.length; i++) {
      var yy = y + 16 * i;
      svgEl("line", { x1: x, x2: x + 22, y1: yy, y2: yy, "class": items[i][0] }, g);
      var t = svgEl("text", { x: x + 28, y: yy + 4, "class": "kx-legend-text" }, g);
      t.textContent = items[i][1];
      texts.push(t);
    }
    // fit the box to the text once it is laid out (an estimate stands until then)
    var fit = function () {
      var wmax = 0;
      try { for (var k = 0; k < texts.length; k++) wmax = Math.max(wmax, texts[k].getComputedTextLength()); } catch (e) { return; }
      if (wmax > 0) bg.setAttribute("width", 40 + wmax);
    };
    fit();
    if (typeof requestAnimationFrame === "function") requestAnimationFrame(fit);
    return g;
  }

  function maxOf(a) { var m = -Infinity; for (var i = 0; i < a.length; i++) if (a[i] > m) m = a[i]; return m; }
  function minOf(a) { var m = Infinity; for (var i = 0; i < a.length; i++) if (a[i] < m) m = a[i]; return m; }

  /* ------------------------------------------------------------------ */
  /* Mounting: controls, readouts, figure                                 */
  /* ------------------------------------------------------------------ */

  var W = 640;

  function Explorer(root, spec) {
    this.root = root;
    this.spec = spec;
    this.ctx = prepare(spec);
    this.inputs = {};
    this.outputs = {};
    this.timings = [];
    this.state = {};
    this.vp = new Float64Array(this.ctx.vlp.length);
    for (var i = 0; i < this.vp.length; i++) this.vp[i] = Math.exp(this.ctx.vlp[i]);
    this.pmax = maxOf(this.vp);
    this.yfixed = null;
    if (spec.kind === "alpha") {
      // one density axis for every stop of the slider: the tallest of p, the fits and the references
      var tall = this.pmax, all = spec.fits.concat([spec.reference_fits.forward, spec.reference_fits.reverse]);
      for (i = 0; i < all.length; i++) tall = Math.max(tall, 1 / (all[i].std * Math.sqrt(2 * Math.PI)));
      this.yfixed = tall * 1.05;
    }
    this.build();
    this.render();
  }

  Explorer.prototype.build = function () {
    var spec = this.spec, self = this, i;
    // keep the JSON spec (tests and tools read it); replace the no-script fallback
    var old = this.root.querySelectorAll(".kx-fallback, .kx-body");
    for (i = 0; i < old.length; i++) old[i].parentNode.removeChild(old[i]);
    // data-lm-suppress-shortcuts: JupyterLab leaves keys pressed in here to the controls
    // (otherwise its notebook shortcuts take the arrow keys from a focused slider)
    var root = el("div", { "class": "kx-body", "data-lm-suppress-shortcuts": "true" }, this.root);
    this.root.classList.add("kx-mounted");
    if (spec.title) el("p", { "class": "kx-title" }, root).textContent = spec.title;

    var twoPanels = spec.kind === "integrand";
    var H = twoPanels ? 432 : 292;
    var svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": spec.figure_label, "class": "kx-svg" }, root);
    svgEl("title", null, svg).textContent = spec.figure_label;
    this.svg = svg;
    var box1 = { x: 62, y: 14, w: W - 80, h: twoPanels ? 170 : 230 };
    this.top = new Panel(svg, box1, spec.view.lo, spec.view.hi, "density");
    this.topPlot = {};
    if (spec.kind === "alpha") {
      this.topPlot.fwd = svgEl("path", { "class": "kx-ref kx-ref-forward" }, this.top.plot);
      this.topPlot.rev = svgEl("path", { "class": "kx-ref kx-ref-reverse" }, this.top.plot);
    }
    this.topPlot.p = svgEl("path", { "class": "kx-p" }, this.top.plot);
    this.topPlot.q = svgEl("path", { "class": "kx-q" }, this.top.plot);
    var items = [["kx-p", spec.p.label], ["kx-q", spec.q_label]];
    if (spec.kind === "alpha") {
      items.push(["kx-ref kx-ref-forward", spec.reference_labels.forward]);
      items.push(["kx-ref kx-ref-reverse", spec.reference_labels.reverse]);
    }
    legend(svg, box1.x + 12, box1.y + 14, items);
    if (twoPanels) {
      var box2 = { x: 62, y: 230, w: W - 80, h: 160 };
      this.bot = new Panel(svg, box2, spec.view.lo, spec.view.hi, "p·log(p/q)");
      this.botPlot = {
        pos: svgEl("path", { "class": "kx-pos" }, this.bot.plot),
        neg: svgEl("path", { "class": "kx-neg" }, this.bot.plot),
        line: svgEl("path", { "class": "kx-integrand" }, this.bot.plot)
      };
      var lg = svgEl("g", { "class": "kx-legend" }, svg);
      svgEl("rect", { x: box2.x + 12, y: box2.y + 8, width: 14, height: 10, "class": "kx-pos" }, lg);
      svgEl("text", { x: box2.x + 32, y: box2.y + 17, "class": "kx-legend-text" }, lg).textContent = "adds to KL (p > q)";
      svgEl("rect", { x: box2.x + 170, y: box2.y + 8, width: 14, height: 10, "class": "kx-neg" }, lg);
      svgEl("text", { x: box2.x + 190, y: box2.y + 17, "class": "kx-legend-text" }, lg).textContent = "subtracts (p < q)";
    }
    svgEl("text", { x: box1.x + box1.w / 2, y: H - 4, "text-anchor": "middle", "class": "kx-label" }, svg).textContent = "x";
    if (spec.landscape) this.buildLandscape(root);

    var controls = el("div", { "class": "kx-controls" }, root);
    for (i = 0; i < spec.controls.length; i++) this.addSlider(controls, spec.controls[i]);

    if (spec.buttons && spec.buttons.length) {
      var bar = el("div", { "class": "kx-buttons", role: "group", "aria-label": "Jump to an optimum computed by klbook" }, root);
      spec.buttons.forEach(function (b) {
        var btn = el("button", { type: "button", "class": "kx-button", "data-action": "jump" }, bar);
        btn.textContent = b.label;
        btn.addEventListener("click", function () { self.stopAnimation(); self.set(b.state); });
      });
    }
    if (spec.descend) {
      var bar2 = el("div", { "class": "kx-buttons", role: "group", "aria-label": "Fit q by gradient descent, live" }, root);
      spec.descend.forEach(function (d) {
        var btn = el("button", { type: "button", "class": "kx-button", "data-action": "descend", "data-direction": d.direction }, bar2);
        btn.textContent = d.label;
        btn.addEventListener("click", function () { self.descendFromHere(d.direction); });
      });
    }

    var ro = el("div", { "class": "kx-readout", "aria-live": "polite", "aria-atomic": "true" }, root);
    for (i = 0; i < spec.readouts.length; i++) {
      var r = spec.readouts[i];
      var line = el("div", { "class": "kx-readout-line" }, ro);
      el("span", { "class": "kx-readout-label" }, line).textContent = r.label + " = ";
      this.outputs[r.quantity] = el("output", { "class": "kx-value", "data-quantity": r.quantity }, line);
      if (r.unit) el("span", { "class": "kx-unit" }, line).textContent = " " + r.unit;
    }
    if (spec.note) el("p", { "class": "kx-note" }, root).textContent = spec.note;
  };

  Explorer.prototype.addSlider = function (parent, c) {
    var self = this;
    var row = el("div", { "class": "kx-row" }, parent);
    var label = el("label", { "class": "kx-label-text" }, row);
    el("span", null, label).textContent = c.label;
    var input = el("input", { type: "range", min: c.min, max: c.max, step: c.step, value: c.value, "data-param": c.param }, label);
    var out = el("output", { "class": "kx-value kx-param", "data-quantity": c.param }, row);
    this.inputs[c.param] = input;
    this.outputs["control:" + c.param] = out;
    this.state[c.param] = c.value;
    input.addEventListener("input", function () {
      self.stopAnimation();
      self.state[c.param] = parseFloat(input.value);
      self.render();
    });
  };

  /** Set the state (e.g. an optimum from a button). The values are kept exactly:
   *  a slider shows the nearest position it can take. */
  Explorer.prototype.set = function (state) {
    for (var k in state) {
      if (!Object.prototype.hasOwnProperty.call(state, k)) continue;
      this.state[k] = state[k];
      if (this.inputs[k]) this.inputs[k].value = String(state[k]);
    }
    this.render();
  };

  function show(out, v, digits, fixed) {
    out.textContent = fixed ? fmt(Math.abs(v) < 0.5 * Math.pow(10, -digits) ? 0 : v, digits) : fmt(v, digits);
    out.setAttribute("data-value", String(v));
    out.value = out.textContent;
  }

  Explorer.prototype.render = function () {
    var t0 = (typeof performance !== "undefined") ? performance.now() : Date.now();
    var spec = this.spec, vals = compute(this.ctx, this.state), i, k;
    this.values = vals;
    for (i = 0; i < spec.controls.length; i++) {
      var c = spec.controls[i], shown, text;
      if (c.param === "index") {
        shown = spec.fits[this.state.index].alpha;
        text = "α = " + fmt(shown, 2);
      } else if (c.param === "log_scale") {
        shown = this.state.log_scale;
        text = "σ = " + fmt(Math.exp(shown), 3) + " (log σ = " + fmt(shown, 2) + ")";
      } else {
        shown = this.state[c.param];
        text = c.symbol + " = " + fmt(shown, c.digits === undefined ? 2 : c.digits);
      }
      var o = this.outputs["control:" + c.param];
      o.textContent = text;
      o.value = text;
      o.setAttribute("data-value", String(shown));
      this.inputs[c.param].setAttribute("aria-valuetext", text);
    }
    for (i = 0; i < spec.readouts.length; i++) {
      var r = spec.readouts[i];
      show(this.outputs[r.quantity], vals[r.quantity], 4, r.format === "fixed");
    }
    this.root.setAttribute("data-state", JSON.stringify(this.state));
    this.draw(vals);
    this.drawLandscapeMarks();
    var t1 = (typeof performance !== "undefined") ? performance.now() : Date.now();
    this.timings.push(t1 - t0);
  };

  Explorer.prototype.draw = function (vals) {
    var vx = this.ctx.vx, n = vx.length, vp = this.vp, i;
    var q = new Float64Array(n), lq = new Float64Array(n);
    for (i = 0; i < n; i++) { lq[i] = normLogpdf(vx[i], vals.mean, vals.scale); q[i] = Math.exp(lq[i]); }
    var qmax = 1 / (vals.scale * Math.sqrt(2 * Math.PI));
    var top = this.top, yhi = this.yfixed || Math.max(this.pmax, Math.min(qmax, 2.5 * this.pmax)) * 1.08;
    var yst = niceStep(yhi, 4);
    top.setY(0, Math.ceil(yhi / yst) * yst);
    this.topPlot.q.setAttribute("d", top.path(vx, q));
    if (this.drawnAt === top.yhi) return this.drawIntegrand(vals, lq);
    // p and the reference fits only change when the axis does
    this.drawnAt = top.yhi;
    this.topPlot.p.setAttribute("d", top.path(vx, vp));
    if (this.spec.kind === "alpha") {
      var refs = this.spec.reference_fits, names = ["forward", "reverse"], key = ["fwd", "rev"];
      for (var r = 0; r < 2; r++) {
        var f = refs[names[r]], y = new Float64Array(n);
        for (i = 0; i < n; i++) y[i] = Math.exp(normLogpdf(vx[i], f.mean, f.std));
        this.topPlot[key[r]].setAttribute("d", top.path(vx, y));
      }
    }
    this.drawIntegrand(vals, lq);
  };

  Explorer.prototype.drawIntegrand = function (vals, lq) {
    var vx = this.ctx.vx, n = vx.length, vp = this.vp, i;
    if (this.bot) {
      var g = new Float64Array(n), pos = new Float64Array(n), neg = new Float64Array(n);
      for (i = 0; i < n; i++) {
        var lp = this.ctx.vlp[i];
        g[i] = lp === -Infinity ? 0 : vp[i] * (lp - lq[i]);
        pos[i] = g[i] > 0 ? g[i] : 0;
        neg[i] = g[i] < 0 ? g[i] : 0;
      }
      var lo = Math.min(0, minOf(g)), hi = Math.max(0, maxOf(g)), span = hi - lo || 1;
      var B = this.bot, st = niceStep(span, 4);
      // keep the axis while the curve fills at least 40% of it (fewer rebuilds, a steadier picture)
      var fits = B.ylo !== undefined && lo >= B.ylo && hi <= B.yhi && span >= 0.4 * (B.yhi - B.ylo);
      if (!fits) B.setY(Math.floor(lo / st - 0.05) * st, Math.ceil(hi / st + 0.05) * st);
      this.botPlot.pos.setAttribute("d", this.bot.area(vx, pos));
      this.botPlot.neg.setAttribute("d", this.bot.area(vx, neg));
      this.botPlot.line.setAttribute("d", this.bot.path(vx, g));
    }
  };

  var VIRIDIS = [[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
    [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]];

  function colour(t) {
    t = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
    var i = Math.min(VIRIDIS.length - 2, Math.floor(t)), f = t - i, a = VIRIDIS[i], b = VIRIDIS[i + 1];
    return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
  }

  /** The sliders' box [[mu lo, mu hi], [log s lo, log s hi]]. */
  Explorer.prototype.box = function () {
    var c = this.spec.controls;
    return [[c[0].min, c[0].max], [c[1].min, c[1].max]];
  };

  /** Two loss landscapes, forward and reverse KL over (mu, log sigma), under the density figure. */
  Explorer.prototype.buildLandscape = function (root) {
    var self = this, box = this.box(), H = 250, pw = (W - 62 - 18 - 56) / 2;
    var svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "class": "kx-svg kx-landscape",
      "aria-label": this.spec.landscape.label }, root);
    svgEl("title", null, svg).textContent = this.spec.landscape.label;
    this.land = { svg: svg, panels: [] };
    var names = ["forward", "reverse"], titles = ["forward KL(p ‖ q)", "reverse KL(q ‖ p)"];
    for (var k = 0; k < 2; k++) {
      var b = { x: 62 + k * (pw + 56), y: 24, w: pw, h: 180 };
      var panel = new Panel(svg, b, box[0][0], box[0][1], "log σ");
      panel.setY(box[1][0], box[1][1]);
      svgEl("text", { x: b.x + b.w / 2, y: 16, "text-anchor": "middle", "class": "kx-label" }, svg).textContent = titles[k];
      svgEl("text", { x: b.x + b.w / 2, y: b.y + b.h + 34, "text-anchor": "middle", "class": "kx-label" }, svg).textContent = "mean μ";
      var img = svgEl("image", { x: b.x, y: b.y, width: b.w, height: b.h, preserveAspectRatio: "none", "class": "kx-heat" }, panel.plot);
      var g = svgEl("g", null, panel.plot);
      var path = svgEl("polyline", { "class": "kx-path", points: "" }, g);
      var marks = [];
      (this.spec.buttons || []).forEach(function (bt) {
        if (bt.direction !== names[k]) return;
        var mx = panel.sx(bt.state.mean), my = panel.sy(bt.state.log_scale);
        marks.push(svgEl("path", { "class": "kx-opt", d: "M" + (mx - 6) + " " + my + "h12M" + mx + " " + (my - 6) + "v12" }, g));
      });
      var cur = svgEl("circle", { r: 5.5, "class": "kx-current" }, g);
      this.land.panels.push({ name: names[k], panel: panel, img: img, path: path, cur: cur });
    }
    svg.addEventListener("click", function (ev) { self.landscapeClick(ev); });
    // the colours take a few tens of milliseconds: paint them after the first render
    var paint = function () { self.paintLandscape(); };
    if (typeof setTimeout === "function") setTimeout(paint, 0); else paint();
  };

  Explorer.prototype.paintLandscape = function () {
    var L = this.spec.landscape, box = this.box();
    var data = landscape(this.ctx, box, L.n_mean, L.n_log_scale);
    this.landData = data;
    for (var k = 0; k < 2; k++) {
      var vals = data[this.land.panels[k].name], lo = Infinity, hi = -Infinity, i;
      for (i = 0; i < vals.length; i++) if (isFinite(vals[i])) { lo = Math.min(lo, vals[i]); hi = Math.max(hi, vals[i]); }
      var canvas = document.createElement("canvas");
      canvas.width = data.nm; canvas.height = data.ns;
      var c2 = canvas.getContext("2d");
      if (!c2) return;
      var im = c2.createImageData(data.nm, data.ns), d = 0.05, top = Math.log1p((hi - lo) / d);
      for (var j = 0; j < data.ns; j++) {
        for (i = 0; i < data.nm; i++) {
          var v = vals[j * data.nm + i], t = isFinite(v) ? Math.log1p((v - lo) / d) / top : 1;
          var rgb = colour(t), o = 4 * ((data.ns - 1 - j) * data.nm + i);
          im.data[o] = rgb[0]; im.data[o + 1] = rgb[1]; im.data[o + 2] = rgb[2]; im.data[o + 3] = 255;
        }
      }
      c2.putImageData(im, 0, 0);
      this.land.panels[k].img.setAttribute("href", canvas.toDataURL("image/png"));
    }
  };

  Explorer.prototype.drawLandscapeMarks = function () {
    if (!this.land) return;
    for (var k = 0; k < 2; k++) {
      var P = this.land.panels[k];
      P.cur.setAttribute("cx", P.panel.sx(this.state.mean).toFixed(2));
      P.cur.setAttribute("cy", P.panel.sy(this.state.log_scale).toFixed(2));
    }
  };

  Explorer.prototype.landscapeClick = function (ev) {
    var svg = this.land.svg, pt = svg.createSVGPoint(), m = svg.getScreenCTM();
    if (!m) return;
    pt.x = ev.clientX; pt.y = ev.clientY;
    var p = pt.matrixTransform(m.inverse()), c = this.spec.controls;
    for (var k = 0; k < 2; k++) {
      var P = this.land.panels[k].panel, b = P.box;
      if (p.x < b.x || p.x > b.x + b.w || p.y < b.y || p.y > b.y + b.h) continue;
      var mu = P.xlo + (p.x - b.x) / b.w * (P.xhi - P.xlo);
      var ls = P.ylo + (b.y + b.h - p.y) / b.h * (P.yhi - P.ylo);
      var snap = function (v, ctl) {
        var k2 = Math.round((v - ctl.min) / ctl.step);
        return parseFloat((ctl.min + k2 * ctl.step).toFixed(10));
      };
      this.stopAnimation();
      this.set({ mean: snap(mu, c[0]), log_scale: snap(ls, c[1]) });
      return;
    }
  };

  Explorer.prototype.stopAnimation = function () {
    if (this.anim) { this.anim.stopped = true; this.anim = null; }
  };

  /** Gradient descent from the current q, animated; the path is drawn on the landscape. */
  Explorer.prototype.descendFromHere = function (direction) {
    this.stopAnimation();
    var path = descend(this.ctx, direction, [this.state.mean, this.state.log_scale], this.box());
    this.lastPath = { direction: direction, path: path };
    var P = null, self = this, k;
    if (this.land) for (k = 0; k < 2; k++) {
      if (this.land.panels[k].name === direction) P = this.land.panels[k];
      else this.land.panels[k].path.setAttribute("points", "");
    }
    var frames = Math.min(60, path.length), anim = { stopped: false }, f = 0;
    this.anim = anim;
    var step = function () {
      if (anim.stopped) return;
      var idx = frames <= 1 ? path.length - 1 : Math.round((path.length - 1) * (1 - Math.pow(1 - f / (frames - 1), 2)));
      var pts = [];
      if (P) {
        for (var i = 0; i <= idx; i++) pts.push(P.panel.sx(path[i][0]).toFixed(2) + "," + P.panel.sy(path[i][1]).toFixed(2));
        P.path.setAttribute("points", pts.join(" "));
      }
      self.set({ mean: path[idx][0], log_scale: path[idx][1] });
      f++;
      if (f < frames && typeof requestAnimationFrame === "function") requestAnimationFrame(step);
      else { self.set({ mean: path[path.length - 1][0], log_scale: path[path.length - 1][1] }); self.anim = null; }
    };
    step();
    return path;
  };

  /** Mount an explorer in `root` from the JSON spec it contains (or `spec`). */
  function mount(root, spec) {
    if (!root || root.klbookExplorer) return root && root.klbookExplorer;
    if (!spec) {
      var s = root.querySelector("script.klbook-explorer-spec");
      spec = JSON.parse(s.textContent);
    }
    root.klbookExplorer = new Explorer(root, spec);
    return root.klbookExplorer;
  }

  /** Mount every explorer on the page that is not mounted yet. */
  function mountAll(doc) {
    var nodes = (doc || document).querySelectorAll("div.klbook-explorer");
    for (var i = 0; i < nodes.length; i++) mount(nodes[i]);
  }

  return {
    version: VERSION,
    normLogpdf: normLogpdf,
    makeQuad: makeQuad,
    logp: logp,
    forwardIntegrals: forwardIntegrals,
    reverseKL: reverseKL,
    alphaDivergence: alphaDivergence,
    objective: objective,
    descend: descend,
    landscape: landscape,
    prepare: prepare,
    compute: compute,
    fmt: fmt,
    mount: mount,
    mountAll: mountAll
  };
});
