/* klbook explorer part: two coins, the asymmetry of KL (chapter 3).
 * State {a, b}: p = Bern(a), q = Bern(b). A map of the gap KL(p||q) - KL(q||p) over (b, a) with a
 * draggable point, and bars for TV and its Pinsker / Bretagnolle-Huber bounds from either direction. */
register("bernoulli", function (K) {
  "use strict";

  /** KL(Bern(a) || Bern(b)) in nats, 0 log 0 = 0, +Infinity when b is 0 or 1 and a is not. */
  function klBern(a, b) {
    function term(x, y) {
      if (x === 0) return 0;
      if (y === 0) return Infinity;
      return x * Math.log(x / y);
    }
    return term(a, b) + term(1 - a, 1 - b);
  }

  function values(a, b) {
    var pq = klBern(a, b), qp = klBern(b, a);
    function pinsker(d) { return Math.sqrt(d / 2); }
    function bh(d) { return Math.sqrt(-Math.expm1(-d)); }
    return {
      a: a, b: b, kl_pq: pq, kl_qp: qp, gap: pq - qp, tv: Math.abs(a - b),
      pinsker_pq: pinsker(pq), pinsker_qp: pinsker(qp), bh_pq: bh(pq), bh_qp: bh(qp)
    };
  }

  function compute(ctx, state) { return values(state.a, state.b); }

  /* RdBu reversed (ColorBrewer): blue (negative) -> white -> red (positive), as matplotlib's RdBu_r. */
  var RDBU_R = [[5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240], [247, 247, 247],
    [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31]];

  function rdbu(t) {
    t = Math.min(1, Math.max(0, t)) * (RDBU_R.length - 1);
    var i = Math.min(RDBU_R.length - 2, Math.floor(t)), f = t - i, a = RDBU_R[i], b = RDBU_R[i + 1];
    return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
  }

  /** matplotlib's SymLogNorm (base 10) mapped to [0, 1] over [-gmax, gmax]. */
  function symlog(map) {
    var lt = map.linthresh, ls = map.linscale / (1 - 1 / 10);
    function f(x) {
      var ax = Math.abs(x);
      if (ax <= lt) return x * ls;
      return (x < 0 ? -1 : 1) * lt * (ls + Math.log(ax / lt) / Math.LN10);
    }
    var top = f(map.g_max);
    return function (x) { return 0.5 + 0.5 * f(Math.max(-map.g_max, Math.min(map.g_max, x))) / top; };
  }

  function prepare(spec) { return { spec: spec, norm: symlog(spec.map) }; }

  function snap(v, c) {
    v = Math.min(c.max, Math.max(c.min, v));
    return parseFloat((c.min + Math.round((v - c.min) / c.step) * c.step).toFixed(10));
  }

  function build(ex, body) {
    var spec = ex.spec, ca = spec.controls[0], cb = spec.controls[1];
    var row = K.el("div", { "class": "kx-figrow" }, body);
    // the map
    var svg = K.svgEl("svg", { viewBox: "0 0 360 330", role: "group", "aria-label": spec.figure_label, "class": "kx-svg kx-map" }, row);
    K.svgEl("title", null, svg).textContent = spec.figure_label;
    var box = { x: 56, y: 12, w: 240, h: 240 };
    var P = new K.Panel(svg, box, ca.min, ca.max, "a, heads of p", "b, heads of q");
    P.xlo = cb.min; P.xhi = cb.max;
    P.setY(ca.min, ca.max);
    ex.map = { svg: svg, panel: P };
    ex.map.img = K.svgEl("image", { x: box.x, y: box.y, width: box.w, height: box.h, preserveAspectRatio: "none", "class": "kx-heat" }, P.plot);
    var lo = Math.max(ca.min, cb.min), hi = Math.min(ca.max, cb.max);
    K.svgEl("line", { x1: P.sx(lo), y1: P.sy(lo), x2: P.sx(hi), y2: P.sy(hi), "class": "kx-diag" }, P.plot);
    K.svgEl("line", { x1: P.sx(lo), y1: P.sy(1 - lo), x2: P.sx(hi), y2: P.sy(1 - hi), "class": "kx-diag" }, P.plot);
    ex.map.halo = K.svgEl("circle", { r: 8, "class": "kx-current-halo" }, P.plot);
    var h = K.svgEl("circle", { r: 8, "class": "kx-current kx-point", tabindex: "0", role: "slider",
      "aria-roledescription": "two-dimensional slider", "aria-valuemin": String(cb.min), "aria-valuemax": String(cb.max),
      "aria-label": "Point (a, b): drag it, or use the arrow keys (left/right move b, up/down move a)" }, P.plot);
    ex.map.handle = h;
    K.stopKeys(h);
    // colour bar, as in the static figure
    var cbx = box.x + box.w + 14, cbw = 12, norm = ex.ctx.norm;
    var cbImg = K.svgEl("image", { x: cbx, y: box.y, width: cbw, height: box.h, preserveAspectRatio: "none" }, svg);
    ex.map.cbar = cbImg;
    K.svgEl("rect", { x: cbx, y: box.y, width: cbw, height: box.h, "class": "kx-frame" }, svg);
    spec.map.ticks.forEach(function (t) {
      if (Math.abs(t) > spec.map.g_max) return;
      var y = box.y + box.h * (1 - norm(t));
      K.svgEl("line", { x1: cbx + cbw, x2: cbx + cbw + 4, y1: y, y2: y, "class": "kx-tickmark" }, svg);
      K.svgEl("text", { x: cbx + cbw + 6, y: y + 4, "class": "kx-tick" }, svg).textContent = K.fmt(t, Math.abs(t) < 1 && t !== 0 ? (Math.abs(t) < 0.1 ? 2 : 1) : 0);
    });
    K.svgEl("text", { x: box.x + box.w / 2, y: 320, "text-anchor": "middle", "class": "kx-label" }, svg).textContent =
      "colour: KL(p ‖ q) − KL(q ‖ p), nats";
    // the bars: TV and its bounds
    var svg2 = K.svgEl("svg", { viewBox: "0 0 300 330", role: "img", "class": "kx-svg kx-bars",
      "aria-label": "Total variation |a − b| and its upper bounds: Pinsker and Bretagnolle–Huber, from KL(p ‖ q) and from KL(q ‖ p)." }, row);
    K.svgEl("title", null, svg2).textContent = "Total variation and its upper bounds from either divergence";
    var bb = { x: 12, y: 34, w: 270, h: 250 };
    var B = new K.Panel(svg2, bb, 0, 1, "", "total variation scale (0 to 1)");
    B.noYTicks = true;
    B.setY(0, 1);
    var rows = [["tv", "TV(p, q) = |a − b|", "kx-bar-tv"], ["pinsker_pq", "Pinsker, KL(p ‖ q)", "kx-bar-p"],
      ["pinsker_qp", "Pinsker, KL(q ‖ p)", "kx-bar-q"], ["bh_pq", "Bretagnolle–Huber, KL(p ‖ q)", "kx-bar-p"],
      ["bh_qp", "Bretagnolle–Huber, KL(q ‖ p)", "kx-bar-q"]];
    ex.bars = [];
    var rh = bb.h / rows.length;
    rows.forEach(function (r, i) {
      var y = bb.y + i * rh;
      K.svgEl("text", { x: bb.x + 4, y: y + 15, "class": "kx-legend-text" }, svg2).textContent = r[1];
      var rect = K.svgEl("rect", { x: bb.x, y: y + 21, height: rh - 30, width: 0, "class": r[2] }, svg2);
      var val = K.svgEl("text", { x: bb.x + bb.w - 4, y: y + 15, "text-anchor": "end", "class": "kx-tick kx-bar-value" }, svg2);
      ex.bars.push({ key: r[0], rect: rect, text: val });
    });
    ex.barPanel = B;
    ex.tvLine = K.svgEl("line", { y1: bb.y, y2: bb.y + bb.h, "class": "kx-tv-line" }, svg2);
    K.svgEl("text", { x: bb.x, y: 22, "class": "kx-label" }, svg2).textContent = "every bound lies right of the TV line";
    ex.rule = K.el("p", { "class": "kx-rule", "aria-live": "polite" }, body);

    paint(ex);
    // dragging on the map moves the point; so does a click
    var dragging = false;
    function moveTo(ev) {
      var pt = ex.svgPoint(svg, ev);
      if (!pt) return;
      ex.set({ a: snap(P.iy(pt.y), ca), b: snap(P.ix(pt.x), cb) });
    }
    svg.addEventListener("pointerdown", function (ev) {
      var pt = ex.svgPoint(svg, ev);
      if (!pt || pt.x < box.x || pt.x > box.x + box.w || pt.y < box.y || pt.y > box.y + box.h) return;
      dragging = true;
      if (svg.setPointerCapture && ev.pointerId !== undefined) { try { svg.setPointerCapture(ev.pointerId); } catch (e) { /* ignore */ } }
      ev.preventDefault();
      h.focus({ preventScroll: true });
      moveTo(ev);
    });
    svg.addEventListener("pointermove", function (ev) { if (dragging) moveTo(ev); });
    var stop = function () { dragging = false; };
    svg.addEventListener("pointerup", stop);
    svg.addEventListener("pointercancel", stop);
    h.addEventListener("keydown", function (ev) {
      var big = ev.key === "PageUp" || ev.key === "PageDown", n = big ? 10 : 1, a = ex.state.a, b = ex.state.b;
      if (ev.key === "ArrowLeft") b -= n * cb.step;
      else if (ev.key === "ArrowRight") b += n * cb.step;
      else if (ev.key === "ArrowUp" || ev.key === "PageUp") a += n * ca.step;
      else if (ev.key === "ArrowDown" || ev.key === "PageDown") a -= n * ca.step;
      else return;
      ev.preventDefault();
      ex.set({ a: snap(a, ca), b: snap(b, cb) });
    });
  }

  function paint(ex) {
    if (typeof document === "undefined") return;
    var n = ex.spec.map.n, ca = ex.spec.controls[0], cb = ex.spec.controls[1], norm = ex.ctx.norm;
    var canvas = document.createElement("canvas");
    canvas.width = n; canvas.height = n;
    var c2 = canvas.getContext("2d");
    if (!c2) return;
    var im = c2.createImageData(n, n), i, j;
    for (i = 0; i < n; i++) {            // rows: a from high (top) to low
      var a = ca.max - (ca.max - ca.min) * (i + 0.5) / n;
      for (j = 0; j < n; j++) {
        var b = cb.min + (cb.max - cb.min) * (j + 0.5) / n;
        var rgb = rdbu(norm(klBern(a, b) - klBern(b, a))), o = 4 * (i * n + j);
        im.data[o] = rgb[0]; im.data[o + 1] = rgb[1]; im.data[o + 2] = rgb[2]; im.data[o + 3] = 255;
      }
    }
    c2.putImageData(im, 0, 0);
    ex.map.img.setAttribute("href", canvas.toDataURL("image/png"));
    var cb2 = document.createElement("canvas");
    cb2.width = 1; cb2.height = 128;
    var c3 = cb2.getContext("2d"), im2 = c3.createImageData(1, 128);
    for (i = 0; i < 128; i++) {
      var rgb2 = rdbu(1 - (i + 0.5) / 128);
      im2.data[4 * i] = rgb2[0]; im2.data[4 * i + 1] = rgb2[1]; im2.data[4 * i + 2] = rgb2[2]; im2.data[4 * i + 3] = 255;
    }
    c3.putImageData(im2, 0, 0);
    ex.map.cbar.setAttribute("href", cb2.toDataURL("image/png"));
  }

  function draw(ex, v) {
    var P = ex.map.panel, x = P.sx(v.b).toFixed(2), y = P.sy(v.a).toFixed(2);
    ex.map.handle.setAttribute("cx", x); ex.map.handle.setAttribute("cy", y);
    ex.map.halo.setAttribute("cx", x); ex.map.halo.setAttribute("cy", y);
    ex.map.handle.setAttribute("aria-valuenow", String(v.b));
    ex.map.handle.setAttribute("aria-valuetext", "a = " + K.fmt(v.a, 3) + ", b = " + K.fmt(v.b, 3));
    var B = ex.barPanel;
    ex.bars.forEach(function (bar) {
      var val = v[bar.key], w = Math.min(1, val) * B.box.w;
      bar.rect.setAttribute("width", w.toFixed(2));
      bar.text.textContent = val > 1 ? K.fmtFixed(val, 3) + " > 1, vacuous" : K.fmtFixed(val, 3);
    });
    var tx = B.sx(v.tv).toFixed(2);
    ex.tvLine.setAttribute("x1", tx); ex.tvLine.setAttribute("x2", tx);
    var da = Math.abs(v.a - 0.5), db = Math.abs(v.b - 0.5), text;
    var lhs = "|a − ½| = " + K.fmtFixed(da, 3), rhs = "|b − ½| = " + K.fmtFixed(db, 3);
    if (Math.abs(da - db) < 1e-12) {
      text = lhs + " = " + rhs + ": on a diagonal (a = b or a + b = 1), both directions agree, gap = 0.";
      ex.rule.setAttribute("data-sign", "0");
    } else if (da < db) {
      text = lhs + " < " + rhs + ": p is the more uncertain coin, so KL(p ‖ q) > KL(q ‖ p): gap > 0 (red).";
      ex.rule.setAttribute("data-sign", "1");
    } else {
      text = lhs + " > " + rhs + ": q is the more uncertain coin, so KL(p ‖ q) < KL(q ‖ p): gap < 0 (blue).";
      ex.rule.setAttribute("data-sign", "-1");
    }
    ex.rule.textContent = "Sign rule: " + text;
  }

  function controlText(ex, c) {
    var v = ex.state[c.param];
    return { shown: v, text: c.symbol + " = " + K.fmtFixed(v, 3) };
  }

  return { prepare: prepare, compute: compute, build: build, draw: draw, controlText: controlText,
    exports: { klBern: klBern } };
});
