/* klbook: small behaviours of the book's pages (loaded on every page by book_ext/klbook_html.py).
 *
 * 1. Scroll hints. A formula, display equation, output table or printed output wider than
 *    its box scrolls inside that box (klbook.css); here each such box is marked with
 *    .kl-more-right / .kl-more-left while content continues past that edge (the CSS fades it
 *    there), and a wide display equation gets .kl-wide (the CSS prints "swipe or scroll").
 * 2. Search. Sphinx's offline search lists API objects (every klbook.* name contains "kl")
 *    before the chapters, and shows titles and snippets as raw LaTeX. The Scorer below ranks
 *    chapters and sections first and objects whose own name does not match last; snippets and
 *    titles have their math turned into plain text (klbookLatexToText).
 * 3. The navigation's expand/collapse toggles, an icon only, get an accessible name.
 */
"use strict";

/* ---- 2a. Search ranking: Sphinx's searchtools.js uses this Scorer when it is defined first. */
if (typeof Scorer === "undefined") {
  // eslint-disable-next-line no-var
  var Scorer = {
    // A result is [docname, title, anchor, descr, score, filename]; descr is set for objects.
    score: (result) => {
      const [docname, title, , descr, score] = result;
      if (descr !== null && descr !== undefined) {
        const words = (new URLSearchParams(window.location.search).get("q") || "")
          .toLowerCase().split(/\s+/).filter(Boolean);
        const last = String(title).toLowerCase().split(".").pop();
        return words.some((w) => last.includes(w)) ? score - 30 : score - 1000;
      }
      return /(^|\/)api$/.test(docname) ? score - 10 : score;
    },
    objNameMatch: 11,
    objPartialMatch: 6,
    objPrio: {0: 15, 1: 5, 2: -5},
    objPrioDefault: 0,
    title: 15,
    partialTitle: 7,
    term: 5,
    partialTerm: 2,
  };
}

/* ---- 2b. LaTeX to readable text (search titles and snippets) ---------------------------- */
const KLBOOK_TEX_SYMBOLS = {
  alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", varepsilon: "ε", zeta: "ζ",
  eta: "η", theta: "θ", vartheta: "θ", kappa: "κ", lambda: "λ", mu: "μ", nu: "ν", xi: "ξ",
  pi: "π", rho: "ρ", sigma: "σ", tau: "τ", phi: "φ", varphi: "φ", chi: "χ", psi: "ψ",
  omega: "ω", Gamma: "Γ", Delta: "Δ", Theta: "Θ", Lambda: "Λ", Xi: "Ξ", Pi: "Π", Sigma: "Σ",
  Phi: "Φ", Psi: "Ψ", Omega: "Ω",
  KL: "KL", JS: "JS", E: "𝔼", R: "ℝ", Vert: "‖", lVert: "‖", rVert: "‖", "|": "‖",
  vert: "|", lvert: "|", rvert: "|", mid: "|", infty: "∞", le: "≤", leq: "≤", ge: "≥",
  geq: "≥", ne: "≠", neq: "≠", approx: "≈", sim: "∼", simeq: "≃", to: "→", rightarrow: "→",
  leftarrow: "←", Rightarrow: "⇒", mapsto: "↦", cdot: "·", times: "×", sum: "∑", int: "∫",
  prod: "∏", partial: "∂", nabla: "∇", in: "∈", notin: "∉", subset: "⊂", subseteq: "⊆",
  pm: "±", mp: "∓", propto: "∝", ll: "≪", gg: "≫", ldots: "…", cdots: "⋯", dots: "…",
  equiv: "≡", forall: "∀", exists: "∃", cup: "∪", cap: "∩", emptyset: "∅", ast: "*",
  star: "⋆", circ: "∘", prime: "′", langle: "⟨", rangle: "⟩", sqrt: "√", colon: ":",
  log: "log", exp: "exp", ln: "ln", min: "min", max: "max", sup: "sup", inf: "inf",
  arg: "arg", argmin: "argmin", argmax: "argmax", det: "det", Var: "Var", Cov: "Cov",
  lfloor: "⌊", rfloor: "⌋", lceil: "⌈", rceil: "⌉", neg: "¬", land: "∧", lor: "∨",
  quad: " ", qquad: " ", ",": " ", ";": " ", ":": " ", " ": " ", "!": "",
  "{": "{", "}": "}", "%": "%", "&": "&", "#": "#", "_": "_", "\\": " ",
};
const KLBOOK_SUP = {"0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶",
                    "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻", "+": "⁺", "n": "ⁿ", "i": "ⁱ"};
const KLBOOK_SUB = {"0": "₀", "1": "₁", "2": "₂", "3": "₃", "4": "₄", "5": "₅", "6": "₆",
                    "7": "₇", "8": "₈", "9": "₉", "-": "₋", "+": "₊"};

function klbookTexBody(tex) {
  let s = tex;
  for (let i = 0; i < 4; i++) {  // fractions, innermost first
    s = s.replace(/\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}/g, (_, a, b) =>
      `${a.length > 1 ? `(${a})` : a}/${b.length > 1 ? `(${b})` : b}`);
  }
  s = s.replace(/\\[dt]?frac\s*(\d)\s*(\d)/g, "$1/$2");
  s = s.replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big|displaystyle|textstyle|operatorname|math[a-z]*|text[a-z]*|boldsymbol|hat|tilde|bar|overline|underline|underbrace|overbrace|widehat|widetilde)\b\s*/g, "");
  for (let i = 0; i < 3; i++) s = s.replace(/\{\{([^{}]*)\}\}/g, "{$1}");
  s = s.replace(/\\([A-Za-z]+)\s?/g, (m, name) => (name in KLBOOK_TEX_SYMBOLS ? KLBOOK_TEX_SYMBOLS[name] : name));
  s = s.replace(/\\([^A-Za-z])/g, (m, c) => (c in KLBOOK_TEX_SYMBOLS ? KLBOOK_TEX_SYMBOLS[c] : c));
  s = s.replace(/\^\{([^{}]*)\}|\^(.)/g, (m, a, b) => {
    const t = a !== undefined ? a : b;
    return [...t].every((c) => c in KLBOOK_SUP) ? [...t].map((c) => KLBOOK_SUP[c]).join("") : `^${t.length > 1 ? `(${t})` : t}`;
  });
  s = s.replace(/_\{([^{}]*)\}|_(.)/g, (m, a, b) => {
    const t = a !== undefined ? a : b;
    return [...t].every((c) => c in KLBOOK_SUB) ? [...t].map((c) => KLBOOK_SUB[c]).join("") : (t.length > 1 ? `_${t}` : t);
  });
  return s.replace(/[{}]/g, "").replace(/&/g, " ").replace(/\s+/g, " ").trim();
}

/** Text with its math (\( \), \[ \], $$ $$, $ $) written as readable Unicode. */
function klbookLatexToText(text) {
  if (!/[\\$]/.test(text)) return text;
  let s = text;
  s = s.replace(/\\\(([\s\S]*?)\\\)|\\\[([\s\S]*?)\\\]|\$\$([\s\S]*?)\$\$/g,
    (m, a, b, c) => klbookTexBody(a !== undefined ? a : b !== undefined ? b : c));
  // a formula cut by the edge of a snippet: an opening without its close, or the reverse
  s = s.replace(/\\[(\[]([\s\S]*)$/, (m, a) => klbookTexBody(a));
  s = s.replace(/^([\s\S]*?)\\[)\]]/, (m, a) => klbookTexBody(a));
  s = s.replace(/\$([^$\n]+)\$/g, (m, a) => klbookTexBody(a));
  return s.replace(/\\([A-Za-z]+)/g, (m, name) => KLBOOK_TEX_SYMBOLS[name] || name);
}

function klbookFixSearchText(root) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  for (const n of nodes) {
    const fixed = klbookLatexToText(n.nodeValue);
    if (fixed !== n.nodeValue) n.nodeValue = fixed;
  }
}

/* ---- 1. Scroll hints -------------------------------------------------------------------- */
const KLBOOK_SCROLLERS = [
  "span.math", "div.math mjx-container", "div.cell_output .output", "div.cell_output .text_html",
  ".pst-scrollable-table-container", ".bd-article div.highlight pre",
].join(", ");

function klbookMark(box) {
  // How far the content really reaches: for a formula, the width of its glyphs (MathJax's
  // hidden assistive MathML and italic overhang make scrollWidth a few pixels too large).
  const math = box.matches("span.math") ? box.querySelector("mjx-math") : null;
  const content = math ? math.getBoundingClientRect().width : box.scrollWidth;
  const over = content - box.clientWidth;
  const wide = over > 2 && box.clientWidth > 0;
  box.classList.toggle("kl-more-right", wide && box.scrollLeft < over - 2);
  box.classList.toggle("kl-more-left", wide && box.scrollLeft > 2);
  if (box.tagName === "MJX-CONTAINER" && box.parentElement && box.parentElement.matches("div.math")) {
    box.parentElement.classList.toggle("kl-wide", wide);
  }
}

function klbookWatchScrollers() {
  const boxes = document.querySelectorAll(KLBOOK_SCROLLERS);
  const boxOf = new WeakMap();   // a box, and its content, both report to the box
  const observer = typeof ResizeObserver === "undefined" ? null
    : new ResizeObserver((entries) => entries.forEach((e) => klbookMark(boxOf.get(e.target))));
  boxes.forEach((box) => {
    klbookMark(box);
    if (!observer) return;
    boxOf.set(box, box);
    observer.observe(box);
    if (box.firstElementChild) {
      boxOf.set(box.firstElementChild, box);
      observer.observe(box.firstElementChild);
    }
  });
  document.addEventListener("scroll", (event) => {
    const box = event.target;
    if (box instanceof Element && box.matches(KLBOOK_SCROLLERS)) klbookMark(box);
  }, {capture: true, passive: true});
}

document.addEventListener("DOMContentLoaded", () => {
  // The navigation's expand/collapse toggles (<summary> holding only an icon) get a name.
  document.querySelectorAll("li.has-children > details > summary").forEach((summary) => {
    if (summary.textContent.trim() || summary.hasAttribute("aria-label")) return;
    const link = summary.closest("li").querySelector(":scope > a");
    summary.setAttribute("aria-label", `Sub-pages of ${link ? link.textContent.trim() : "this page"}`);
  });
  // Search: snippets are cut from the text of the fetched page; give Sphinx that text with
  // its math already written as plain text, so that no snippet starts or ends inside a formula.
  if (typeof Search !== "undefined" && Search.htmlToText && !Search.klbookPatched) {
    const htmlToText = Search.htmlToText;
    Search.htmlToText = (htmlString, anchor) => {
      const doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll("span.math, div.math").forEach((e) => {
        e.textContent = ` ${klbookLatexToText(e.textContent)} `;
      });
      return htmlToText(doc.documentElement.outerHTML, anchor);
    };
    Search.klbookPatched = true;
  }
  const results = document.getElementById("search-results");
  if (results) {
    new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach((n) => {
      if (n.nodeType === Node.ELEMENT_NODE) klbookFixSearchText(n);
      else if (n.nodeType === Node.TEXT_NODE) n.nodeValue = klbookLatexToText(n.nodeValue);
    }))).observe(results, {childList: true, subtree: true});
  }
  // Scroll hints once MathJax has typeset the page (its formulas set the widths).
  const mj = window.MathJax;
  const ready = mj && mj.startup && mj.startup.promise ? mj.startup.promise : Promise.resolve();
  ready.then(klbookWatchScrollers, klbookWatchScrollers);
});
