/* klbook explorer part: forward vs reverse KL for a Gaussian q (chapter 4).
 * Sliders for q's mean and log-scale; the densities; two loss landscapes over
 * (mu, log sigma) with the optima klbook found; live gradient descent. */
register("forward_reverse", function (K) {
  "use strict";
  var LOG_SQRT_2PI = K.LOG_SQRT_2PI, Sum = K.Sum;

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
      var w = ctx.w, r = K.qRange(x, m, s);
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

  function compute(ctx, state) {
    var m = state.mean, s = Math.exp(state.log_scale);
    return {
      mean: m, scale: s,
      forward: K.forwardIntegrals(ctx.x, ctx.pw, ctx.lp, m, s).forward,
      reverse: K.reverseKL(ctx.x, ctx.w, ctx.lp, m, s)
    };
  }

  /** The sliders' box [[mu lo, mu hi], [log s lo, log s hi]]. */
  function boxOf(ex) {
    var c = ex.spec.controls;
    return [[c[0].min, c[0].max], [c[1].min, c[1].max]];
  }

  function build(ex, body) {
    var spec = ex.spec, H = 292, W = ex.W;
    var svg = K.svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": spec.figure_label, "class": "kx-svg" }, body);
    K.svgEl("title", null, svg).textContent = spec.figure_label;
    ex.svg = svg;
    ex.densityPanel(svg, { x: 62, y: 14, w: W - 80, h: 230 });
    K.svgEl("text", { x: 62 + (W - 80) / 2, y: H - 4, "text-anchor": "middle", "class": "kx-label" }, svg).textContent = "x";
    if (spec.landscape) buildLandscape(ex, body);
  }

  /** Two loss landscapes, forward and reverse KL over (mu, log sigma), under the density figure. */
  function buildLandscape(ex, root) {
    var box = boxOf(ex), H = 250, W = ex.W, pw = (W - 62 - 18 - 56) / 2;
    var svg = K.svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "class": "kx-svg kx-landscape",
      "aria-label": ex.spec.landscape.label }, root);
    K.svgEl("title", null, svg).textContent = ex.spec.landscape.label;
    ex.land = { svg: svg, panels: [] };
    var names = ["forward", "reverse"], titles = ["forward KL(p ‖ q)", "reverse KL(q ‖ p)"];
    for (var k = 0; k < 2; k++) {
      var b = { x: 62 + k * (pw + 56), y: 24, w: pw, h: 180 };
      var panel = new K.Panel(svg, b, box[0][0], box[0][1], "log σ", "mean μ");
      panel.setY(box[1][0], box[1][1]);
      K.svgEl("text", { x: b.x + b.w / 2, y: 16, "text-anchor": "middle", "class": "kx-label" }, svg).textContent = titles[k];
      var img = K.svgEl("image", { x: b.x, y: b.y, width: b.w, height: b.h, preserveAspectRatio: "none", "class": "kx-heat" }, panel.plot);
      var g = K.svgEl("g", null, panel.plot);
      var path = K.svgEl("polyline", { "class": "kx-path", points: "" }, g);
      (ex.spec.buttons || []).forEach(function (bt) {
        if (bt.direction !== names[k]) return;
        var mx = panel.sx(bt.state.mean), my = panel.sy(bt.state.log_scale);
        K.svgEl("path", { "class": "kx-opt", d: "M" + (mx - 6) + " " + my + "h12M" + mx + " " + (my - 6) + "v12" }, g);
      });
      var cur = K.svgEl("circle", { r: 5.5, "class": "kx-current" }, g);
      ex.land.panels.push({ name: names[k], panel: panel, img: img, path: path, cur: cur });
    }
    svg.addEventListener("click", function (ev) { landscapeClick(ex, ev); });
    // the colours take a few tens of milliseconds: paint them after the first render
    var paint = function () { paintLandscape(ex); };
    if (typeof setTimeout === "function") setTimeout(paint, 0); else paint();
  }

  function paintLandscape(ex) {
    var L = ex.spec.landscape, box = boxOf(ex);
    var data = landscape(ex.ctx, box, L.n_mean, L.n_log_scale);
    ex.landData = data;
    for (var k = 0; k < 2; k++) {
      var vals = data[ex.land.panels[k].name], lo = Infinity, hi = -Infinity, i;
      for (i = 0; i < vals.length; i++) if (isFinite(vals[i])) { lo = Math.min(lo, vals[i]); hi = Math.max(hi, vals[i]); }
      var canvas = document.createElement("canvas");
      canvas.width = data.nm; canvas.height = data.ns;
      var c2 = canvas.getContext("2d");
      if (!c2) return;
      var im = c2.createImageData(data.nm, data.ns), d = 0.05, top = Math.log1p((hi - lo) / d);
      for (var j = 0; j < data.ns; j++) {
        for (i = 0; i < data.nm; i++) {
          var v = vals[j * data.nm + i], t = isFinite(v) ? Math.log1p((v - lo) / d) / top : 1;
          var rgb = K.colour(t), o = 4 * ((data.ns - 1 - j) * data.nm + i);
          im.data[o] = rgb[0]; im.data[o + 1] = rgb[1]; im.data[o + 2] = rgb[2]; im.data[o + 3] = 255;
        }
      }
      c2.putImageData(im, 0, 0);
      ex.land.panels[k].img.setAttribute("href", canvas.toDataURL("image/png"));
    }
  }

  function draw(ex, vals) {
    var qmax = 1 / (vals.scale * Math.sqrt(2 * Math.PI));
    ex.drawDensities(vals.mean, vals.scale, Math.max(ex.pmax, Math.min(qmax, 2.5 * ex.pmax)) * 1.08);
    if (!ex.land) return;
    for (var k = 0; k < 2; k++) {
      var P = ex.land.panels[k];
      P.cur.setAttribute("cx", P.panel.sx(ex.state.mean).toFixed(2));
      P.cur.setAttribute("cy", P.panel.sy(ex.state.log_scale).toFixed(2));
    }
  }

  function landscapeClick(ex, ev) {
    var p = ex.svgPoint(ex.land.svg, ev), c = ex.spec.controls;
    if (!p) return;
    for (var k = 0; k < 2; k++) {
      var P = ex.land.panels[k].panel, b = P.box;
      if (p.x < b.x || p.x > b.x + b.w || p.y < b.y || p.y > b.y + b.h) continue;
      var snap = function (v, ctl) {
        var k2 = Math.round((v - ctl.min) / ctl.step);
        return parseFloat((ctl.min + k2 * ctl.step).toFixed(10));
      };
      ex.stopAnimation();
      ex.set({ mean: snap(P.ix(p.x), c[0]), log_scale: snap(P.iy(p.y), c[1]) });
      return;
    }
  }

  /** Gradient descent from the current q, animated; the path is drawn on the landscape. */
  function descendFromHere(ex, direction) {
    ex.stopAnimation();
    var path = descend(ex.ctx, direction, [ex.state.mean, ex.state.log_scale], boxOf(ex));
    ex.lastPath = { direction: direction, path: path };
    var P = null, k;
    if (ex.land) for (k = 0; k < 2; k++) {
      if (ex.land.panels[k].name === direction) P = ex.land.panels[k];
      else ex.land.panels[k].path.setAttribute("points", "");
    }
    var frames = Math.min(60, path.length), anim = { stopped: false }, f = 0;
    ex.anim = anim;
    var step = function () {
      if (anim.stopped) return;
      var idx = frames <= 1 ? path.length - 1 : Math.round((path.length - 1) * (1 - Math.pow(1 - f / (frames - 1), 2)));
      var pts = [];
      if (P) {
        for (var i = 0; i <= idx; i++) pts.push(P.panel.sx(path[i][0]).toFixed(2) + "," + P.panel.sy(path[i][1]).toFixed(2));
        P.path.setAttribute("points", pts.join(" "));
      }
      ex.set({ mean: path[idx][0], log_scale: path[idx][1] });
      f++;
      if (f < frames && typeof requestAnimationFrame === "function") requestAnimationFrame(step);
      else { ex.set({ mean: path[path.length - 1][0], log_scale: path[path.length - 1][1] }); ex.anim = null; }
    };
    step();
    return path;
  }

  function buildButtons(ex, body) {
    if (!ex.spec.descend) return;
    var bar = K.el("div", { "class": "kx-buttons", role: "group", "aria-label": "Fit q by gradient descent, live" }, body);
    ex.spec.descend.forEach(function (d) {
      var btn = ex.button(bar, d.label, { "data-action": "descend", "data-direction": d.direction });
      btn.addEventListener("click", function () { descendFromHere(ex, d.direction); });
    });
  }

  function controlText(ex, c) {
    if (c.param !== "log_scale") return null;
    var v = ex.state.log_scale;
    return { shown: v, text: "σ = " + K.fmt(Math.exp(v), 3) + " (log σ = " + K.fmtFixed(v, 2) + ")" };
  }

  return { compute: compute, build: build, draw: draw, buildButtons: buildButtons, controlText: controlText,
    exports: { objective: objective, descend: descend, landscape: landscape } };
});
