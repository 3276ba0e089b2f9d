/* klbook explorer core: the shared numerics, drawing and controls of every explorer.
 *
 * Python (klbook.book.explorers) decides everything that comes from klbook -- the
 * quadrature nodes, log p on them, slider ranges, initial values and optima --
 * and writes it as a JSON spec next to a container. The JavaScript only
 * recomputes, live, what depends on the controls, and draws. No dependencies,
 * nothing fetched.
 *
 * The page gets ONE script: this core with every explorer's part (one file per
 * kind, e.g. forward_reverse.js) pasted in at the marker below by
 * klbook.book.explorers.core_js(). Each part calls
 *   register(kind, function (K) { return {prepare, compute, build, draw, ...}; })
 * where K is the core's API (the object returned at the end of this file).
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
  var VERSION = "2.0.0+@klbook-hash@";   /* core_js() puts a hash of the whole script here */
  if (typeof module === "object" && module.exports) {
    module.exports = factory(VERSION);
  } else if (!(root.klbookExplorers && root.klbookExplorers.version === VERSION)) {
    root.klbookExplorers = factory(VERSION);
  }
})(typeof self !== "undefined" ? self : this, function (VERSION) {
  "use strict";

  var LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
  var SVGNS = "http://www.w3.org/2000/svg";
  var KINDS = {};

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
    var K = p.weights.length, lw = new Float64Array(K), inv = new Float64Array(K), terms = new Float64Array(K);
    for (k = 0; k < K; k++) {
      lw[k] = Math.log(p.weights[k]) - Math.log(p.stds[k]) - LOG_SQRT_2PI;   // log(w_k / (s_k sqrt(2 pi)))
      inv[k] = 1 / p.stds[k];
    }
    for (i = 0; i < n; i++) {
      var mx = -Infinity;
      for (k = 0; k < K; k++) {
        var z = (xs[i] - p.means[k]) * inv[k];
        terms[k] = lw[k] - 0.5 * z * z;
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

  /** A seeded uniform number in [0, 1): mulberry32's output at stream position c,
   *  hash(seed + (c + 1) * 0x6D2B79F5 mod 2^32) / 2^32 (klbook.book.explorers.estimators.uniforms in numpy). */
  function uniform(seed, c) {
    var a = (seed + Math.imul(c + 1, 0x6D2B79F5)) | 0;
    var t = Math.imul(a ^ (a >>> 15), a | 1);
    t = (t + Math.imul(t ^ (t >>> 7), t | 61)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Quadrature context of a spec with p on a grid: nodes x, weights w, log p, pw = w p,
   *  and the drawing grid vx with log p on it (vlp). */
  function prepareQuad(spec) {
    var quad = makeQuad(spec.quad);
    var view = makeView(spec.view);
    var lp = logp(spec.p, quad.x, spec.quad.logp);
    var pw = new Float64Array(lp.length);
    for (var i = 0; i < lp.length; i++) pw[i] = lp[i] === -Infinity ? 0 : quad.w[i] * Math.exp(lp[i]);
    return { spec: spec, x: quad.x, w: quad.w, lp: lp, pw: pw, vx: view, vlp: logp(spec.p, view, spec.view.logp) };
  }

  function kindOf(spec) {
    var k = KINDS[spec.kind];
    if (!k) throw new Error("klbook explorer: unknown kind " + spec.kind);
    return k;
  }

  /** Everything the numbers of an explorer need, computed once per explorer. */
  function prepare(spec) {
    var k = kindOf(spec);
    var ctx = k.prepare ? k.prepare(spec) : prepareQuad(spec);
    ctx.spec = spec;
    return ctx;
  }

  /** Every number an explorer shows, for a state (the controls' values).
   *  The page and the tests both call this. */
  function compute(ctx, state) { return kindOf(ctx.spec).compute(ctx, state); }

  /* ------------------------------------------------------------------ */
  /* Formatting                                                           */
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

  /** Fixed decimals, and a value below half the last digit shown as 0 (0.00, never 3e−16). */
  function fmtFixed(v, digits) {
    var d = digits === undefined ? 2 : digits;
    if (isFinite(v) && Math.abs(v) < 0.5 * Math.pow(10, -d)) v = 0;
    return fmt(v, d);
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

  /* ------------------------------------------------------------------ */
  /* Drawing                                                              */
  /* ------------------------------------------------------------------ */

  function el(tag, attrs, parent, ns) {
    var e = ns ? document.createElementNS(SVGNS, tag) : document.createElement(tag);
    if (attrs) for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function svgEl(tag, attrs, parent) { return el(tag, attrs, parent, true); }

  var clipCounter = 0;

  /** A plotting panel: an axes box inside the SVG with a fixed x range. */
  function Panel(svg, box, xlo, xhi, ylabel, xlabel) {
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
    this.xlabel = xlabel;
  }
  Panel.prototype.sx = function (x) { return this.box.x + (x - this.xlo) / (this.xhi - this.xlo) * this.box.w; };
  Panel.prototype.sy = function (y) { return this.box.y + this.box.h - (y - this.ylo) / (this.yhi - this.ylo) * this.box.h; };
  /** Screen point -> data point. */
  Panel.prototype.ix = function (px) { return this.xlo + (px - this.box.x) / this.box.w * (this.xhi - this.xlo); };
  Panel.prototype.iy = function (py) { return this.ylo + (this.box.y + this.box.h - py) / this.box.h * (this.yhi - this.ylo); };
  Panel.prototype.setY = function (ylo, yhi) {
    if (ylo === this.ylo && yhi === this.yhi) return;
    this.ylo = ylo; this.yhi = yhi;
    var a = this.axes, b = this.box, i, t;
    while (a.firstChild) a.removeChild(a.firstChild);
    svgEl("rect", { x: b.x, y: b.y, width: b.w, height: b.h, "class": "kx-frame" }, a);
    var yt = this.noYTicks ? [] : ticks(ylo, yhi, 4), ys = niceStep(yhi - ylo, 4);
    for (i = 0; i < yt.length; i++) {
      var y = this.sy(yt[i]);
      svgEl("line", { x1: b.x, x2: b.x + b.w, y1: y, y2: y, "class": yt[i] === 0 ? "kx-zero" : "kx-grid" }, a);
      t = svgEl("text", { x: b.x - 6, y: y + 4, "text-anchor": "end", "class": "kx-tick" }, a);
      t.textContent = tickLabel(yt[i], ys);
    }
    var nx = Math.max(2, Math.round(b.w / 50)), xt = ticks(this.xlo, this.xhi, nx), xs = niceStep(this.xhi - this.xlo, nx);
    for (i = 0; i < xt.length; i++) {
      var x = this.sx(xt[i]);
      svgEl("line", { x1: x, x2: x, y1: b.y + b.h, y2: b.y + b.h + 4, "class": "kx-tickmark" }, a);
      if (this.noXLabels) continue;
      t = svgEl("text", { x: x, y: b.y + b.h + 17, "text-anchor": "middle", "class": "kx-tick" }, a);
      t.textContent = tickLabel(xt[i], xs);
    }
    t = svgEl("text", { x: b.x - 48, y: b.y + b.h / 2, "text-anchor": "middle", "class": "kx-label",
      transform: "rotate(-90 " + (b.x - 48) + " " + (b.y + b.h / 2) + ")" }, a);
    t.textContent = this.ylabel;
    if (this.xlabel) {
      t = svgEl("text", { x: b.x + b.w / 2, y: b.y + b.h + 34, "text-anchor": "middle", "class": "kx-label" }, a);
      t.textContent = this.xlabel;
    }
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

  /** A legend: items [[css class of the line, text], ...] in a box at (x, y) of the SVG.
   *  With opts.right, x is the box's right edge. Returns the group (move it with transform). */
  function legend(svg, x, y, items, opts) {
    opts = opts || {};
    var g = svgEl("g", { "class": "kx-legend" }, svg), longest = 0, texts = [];
    for (var j = 0; j < items.length; j++) longest = Math.max(longest, items[j][1].length);
    var est = 40 + 6.2 * longest, x0 = opts.right ? x - est : x;
    var bg = svgEl("rect", { x: x0 - 6, y: y - 10, width: est, height: 16 * items.length + 4,
      rx: 3, "class": "kx-legend-bg" }, g);
    for (var i = 0; i < items.length; i++) {
      var yy = y + 16 * i;
      if (items[i][2] === "rect") svgEl("rect", { x: x0 + 4, y: yy - 5, width: 14, height: 10, "class": items[i][0] }, g);
      else svgEl("line", { x1: x0, x2: x0 + 22, y1: yy, y2: yy, "class": items[i][0] }, g);
      var t = svgEl("text", { x: x0 + 28, y: yy + 4, "class": "kx-legend-text" }, g);
      t.textContent = items[i][1];
      texts.push(t);
    }
    // fit the box to the text once it is laid out (an estimate stands until then)
    var fit = function () {
      var wmax = 0;
      try { for (var k = 0; k < texts.length; k++) wmax = Math.max(wmax, texts[k].getComputedTextLength()); } catch (e) { return; }
      if (!(wmax > 0)) return;
      bg.setAttribute("width", 40 + wmax);
      if (opts.right) g.setAttribute("transform", "translate(" + (est - 40 - wmax).toFixed(1) + " 0)");
    };
    fit();
    if (typeof requestAnimationFrame === "function") requestAnimationFrame(fit);
    return g;
  }

  /** A legend in one row above a panel: items [[css class, text, "rect"?], ...] from (x, y), wrapping at
   *  width wmax. Returns its height. Never over the data. */
  function legendRow(svg, x, y, items, wmax) {
    var g = svgEl("g", { "class": "kx-legend kx-legend-row" }, svg), cx = x, cy = y;
    for (var i = 0; i < items.length; i++) {
      var w = 30 + 6.4 * items[i][1].length;
      if (cx > x && cx + w > x + wmax) { cx = x; cy += 16; }
      if (items[i][2] === "rect") svgEl("rect", { x: cx + 4, y: cy - 5, width: 14, height: 10, "class": items[i][0] }, g);
      else svgEl("line", { x1: cx, x2: cx + 22, y1: cy, y2: cy, "class": items[i][0] }, g);
      svgEl("text", { x: cx + 27, y: cy + 4, "class": "kx-legend-text" }, g).textContent = items[i][1];
      cx += w + 8;
    }
    return cy - y + 16;
  }

  function maxOf(a) { var m = -Infinity; for (var i = 0; i < a.length; i++) if (a[i] > m) m = a[i]; return m; }
  function minOf(a) { var m = Infinity; for (var i = 0; i < a.length; i++) if (a[i] < m) m = a[i]; return m; }

  /** Colour maps, low to high: viridis (dark purple -> yellow), and its reverse. */
  var VIRIDIS = [[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
    [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]];

  function colour(t, reversed) {
    t = Math.min(1, Math.max(0, t));
    if (reversed) t = 1 - t;
    t *= VIRIDIS.length - 1;
    var i = Math.min(VIRIDIS.length - 2, Math.floor(t)), f = t - i, a = VIRIDIS[i], b = VIRIDIS[i + 1];
    return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
  }

  /* ------------------------------------------------------------------ */
  /* The explorer: controls, readouts, and the kind's figure              */
  /* ------------------------------------------------------------------ */

  /** Width of the SVG coordinate system (the figure scales to its box). */
  var W = 640;

  function stopKeys(input) {
    // JupyterLab: the keys belong to the control, not to the notebook's shortcuts
    input.setAttribute("data-lm-suppress-shortcuts", "true");
    input.addEventListener("keydown", function (ev) { ev.stopPropagation(); });
  }

  function Explorer(root, spec) {
    this.root = root;
    this.spec = spec;
    this.kind = kindOf(spec);
    this.ctx = prepare(spec);
    this.inputs = {};
    this.outputs = {};
    this.timings = [];
    this.state = {};
    this.anim = null;
    // the SVG coordinate width: 640 on a desktop column, 400 in a narrow one (a phone), so that
    // 12-unit text stays about 12 px on screen
    var cw = root.clientWidth || 0;
    if (!cw && root.getBoundingClientRect) cw = root.getBoundingClientRect().width;
    this.narrow = cw > 0 && cw < 560;
    this.W = this.narrow ? 400 : W;
    // state beyond the sliders (e.g. an editable p), from the spec
    for (var k in spec.state || {}) if (Object.prototype.hasOwnProperty.call(spec.state, k)) this.state[k] = spec.state[k];
    if (this.kind.init) this.kind.init(this);
    this.build();
    this.render();
  }

  Explorer.prototype.build = function () {
    var spec = this.spec, self = this, i;
    // keep the JSON spec (tests and tools read it); replace the no-script fallback
    var old = this.root.querySelectorAll(".kx-fallback, .kx-body");
    for (i = 0; i < old.length; i++) old[i].parentNode.removeChild(old[i]);
    var body = el("div", { "class": "kx-body", "data-lm-suppress-shortcuts": "true" }, this.root);
    this.body = body;
    this.root.classList.add("kx-mounted");
    if (spec.title) el("p", { "class": "kx-title" }, body).textContent = spec.title;
    this.kind.build(this, body);
    // the numbers next to the figure (spec.readouts_first), or after the controls
    if (spec.readouts_first) this.buildReadouts(body);

    var controls = el("div", { "class": "kx-controls" }, body);
    this.controlsBox = controls;
    for (i = 0; i < spec.controls.length; i++) this.addSlider(controls, spec.controls[i]);
    if (this.kind.buildControls) this.kind.buildControls(this, body);

    if (spec.buttons && spec.buttons.length) {
      var bar = el("div", { "class": "kx-buttons", role: "group", "aria-label": "Jump to an optimum computed by klbook" }, body);
      spec.buttons.forEach(function (b) {
        var btn = self.button(bar, b.label, { "data-action": "jump" });
        btn.addEventListener("click", function () { self.stopAnimation(); self.set(b.state); });
      });
    }
    if (this.kind.buildButtons) this.kind.buildButtons(this, body);

    if (!spec.readouts_first) this.buildReadouts(body);
    if (spec.note) el("p", { "class": "kx-note" }, body).textContent = spec.note;
  };

  Explorer.prototype.buildReadouts = function (body) {
    var spec = this.spec, i;
    if (this.kind.buildReadouts) return this.kind.buildReadouts(this, body);
    var ro = el("div", { "class": "kx-readout", "aria-live": "polite", "aria-atomic": "true" }, body);
    this.readoutBox = ro;
    for (i = 0; i < spec.readouts.length; i++) {
      var r = spec.readouts[i];
      var line = el("div", { "class": "kx-readout-line" + (r.group ? " kx-group-" + r.group : "") }, ro);
      el("span", { "class": "kx-readout-label" }, line).textContent = r.label + " = ";
      this.outputs[r.quantity] = el("output", { "class": "kx-value", "data-quantity": r.quantity }, line);
      if (r.unit) el("span", { "class": "kx-unit" }, line).textContent = " " + r.unit;
    }
  };

  Explorer.prototype.button = function (parent, text, attrs) {
    var a = { type: "button", "class": "kx-button" };
    for (var k in attrs || {}) if (Object.prototype.hasOwnProperty.call(attrs, k)) a[k] = attrs[k];
    var btn = el("button", a, parent);
    btn.textContent = text;
    return btn;
  };

  /** A labelled range input. Layout (CSS): label, then the slider, then its value;
   *  on a narrow screen the three stack, the slider full width. */
  Explorer.prototype.addSlider = function (parent, c) {
    var self = this;
    var row = el("div", { "class": "kx-row" }, parent);
    var id = (this.root.id || "kx") + "-" + c.param;
    el("label", { "class": "kx-label-text", "for": id }, row).textContent = c.label;
    var input = el("input", { type: "range", id: id, min: c.min, max: c.max, step: c.step, value: c.value,
      "data-param": c.param }, row);
    stopKeys(input);
    var out = el("output", { "class": "kx-value kx-param", "data-quantity": c.param, "for": id }, row);
    this.inputs[c.param] = input;
    this.outputs["control:" + c.param] = out;
    this.state[c.param] = c.value;
    input.addEventListener("input", function () {
      self.stopAnimation();
      self.state[c.param] = parseFloat(input.value);
      if (self.kind.onInput) self.kind.onInput(self, c.param);
      self.render();
    });
    return input;
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
    out.textContent = fixed ? fmtFixed(v, digits) : fmt(v, digits);
    out.setAttribute("data-value", String(v));
    out.value = out.textContent;
  }

  /** The text of a control's value: the kind's own, or "symbol = value". */
  Explorer.prototype.controlText = function (c) {
    if (this.kind.controlText) {
      var t = this.kind.controlText(this, c);
      if (t) return t;
    }
    var v = this.state[c.param];
    return { shown: v, text: c.symbol + " = " + fmtFixed(v, c.digits === undefined ? 2 : c.digits) };
  };

  Explorer.prototype.render = function () {
    var t0 = (typeof performance !== "undefined") ? performance.now() : Date.now();
    var spec = this.spec, vals = compute(this.ctx, this.state), i;
    this.values = vals;
    for (i = 0; i < spec.controls.length; i++) {
      var c = spec.controls[i], ct = this.controlText(c);
      var o = this.outputs["control:" + c.param];
      o.textContent = ct.text;
      o.value = ct.text;
      o.setAttribute("data-value", String(ct.shown));
      this.inputs[c.param].setAttribute("aria-valuetext", ct.text);
    }
    for (i = 0; i < spec.readouts.length; i++) {
      var r = spec.readouts[i];
      show(this.outputs[r.quantity], vals[r.quantity], r.digits === undefined ? 4 : r.digits, r.format === "fixed");
    }
    this.root.setAttribute("data-state", JSON.stringify(this.state));
    this.kind.draw(this, vals);
    var t1 = (typeof performance !== "undefined") ? performance.now() : Date.now();
    this.timings.push(t1 - t0);
  };

  Explorer.prototype.stopAnimation = function () {
    if (this.anim) { this.anim.stopped = true; this.anim = null; }
  };

  /** SVG point of a mouse/pointer event. */
  Explorer.prototype.svgPoint = function (svg, ev) {
    var pt = svg.createSVGPoint(), m = svg.getScreenCTM();
    if (!m) return null;
    pt.x = ev.clientX; pt.y = ev.clientY;
    return pt.matrixTransform(m.inverse());
  };

  /* ---- the densities panel shared by the kinds with a Gaussian q ---- */

  /** Densities of p (and of q, drawn by drawDensities) in a panel of the SVG. */
  Explorer.prototype.densityPanel = function (svg, box, items) {
    var spec = this.spec, n = this.ctx.vx.length, i;
    this.vp = new Float64Array(n);
    for (i = 0; i < n; i++) this.vp[i] = Math.exp(this.ctx.vlp[i]);
    this.pmax = maxOf(this.vp);
    this.top = new Panel(svg, box, spec.view.lo, spec.view.hi, "density");
    this.topPlot = {};
    var extra = items || [];
    for (i = 0; i < extra.length; i++) this.topPlot[extra[i][2]] = svgEl("path", { "class": extra[i][0] }, this.top.plot);
    this.topPlot.p = svgEl("path", { "class": "kx-p" }, this.top.plot);
    this.topPlot.q = svgEl("path", { "class": "kx-q" }, this.top.plot);
    var legendItems = [["kx-p", spec.p.label], ["kx-q", spec.q_label]];
    for (i = 0; i < extra.length; i++) legendItems.push([extra[i][0], extra[i][1]]);
    // the legend sits in a row above the panel (box.y leaves room for it): it never covers p
    legendRow(svg, box.x, 12, legendItems, box.w);
    return this.top;
  };

  /** Draw q = N(m, s^2) (and p when the axis changed) in the densities panel; returns log q on the view grid. */
  Explorer.prototype.drawDensities = function (m, s, yhi) {
    var vx = this.ctx.vx, n = vx.length, i;
    var q = new Float64Array(n), lq = new Float64Array(n);
    for (i = 0; i < n; i++) { lq[i] = normLogpdf(vx[i], m, s); q[i] = Math.exp(lq[i]); }
    var top = this.top, yst = niceStep(yhi, 4);
    top.setY(0, Math.ceil(yhi / yst) * yst);
    this.topPlot.q.setAttribute("d", top.path(vx, q));
    if (this.drawnAt !== top.yhi || this.pDirty) {
      this.drawnAt = top.yhi;
      this.pDirty = false;
      this.topPlot.p.setAttribute("d", top.path(vx, this.vp));
      if (this.kind.drawStatic) this.kind.drawStatic(this);
    }
    return lq;
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

  var api = {
    version: VERSION,
    kinds: KINDS,
    LOG_SQRT_2PI: LOG_SQRT_2PI,
    W: W,
    normLogpdf: normLogpdf,
    makeQuad: makeQuad,
    makeView: makeView,
    logp: logp,
    Sum: Sum,
    forwardIntegrals: forwardIntegrals,
    qRange: qRange,
    reverseKL: reverseKL,
    uniform: uniform,
    prepareQuad: prepareQuad,
    prepare: prepare,
    compute: compute,
    fmt: fmt,
    fmtFixed: fmtFixed,
    niceStep: niceStep,
    ticks: ticks,
    tickLabel: tickLabel,
    el: el,
    svgEl: svgEl,
    Panel: Panel,
    legend: legend,
    legendRow: legendRow,
    maxOf: maxOf,
    minOf: minOf,
    colour: colour,
    stopKeys: stopKeys,
    Explorer: Explorer,
    mount: mount,
    mountAll: mountAll
  };

  /** Register an explorer kind: make(K) returns its implementation
   *  {prepare?, compute, build, draw, init?, controlText?, onInput?, buildControls?,
   *   buildButtons?, buildReadouts?, drawStatic?, exports?}; `exports` (functions the tests call) join the API. */
  function register(kind, make) {
    var impl = make(api);
    KINDS[kind] = impl;
    var ex = impl.exports || {};
    for (var k in ex) if (Object.prototype.hasOwnProperty.call(ex, k)) api[k] = ex[k];
  }
  api.register = register;

  /* @klbook-parts: klbook.book.explorers.core_js() inserts the explorers' parts here. */

  return api;
});
