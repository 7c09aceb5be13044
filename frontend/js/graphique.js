// Inline SVG bar chart of a daily series (no library): one bar per day,
// its value written above it, the day below; the figures also appear in a
// table next to the chart for screen readers.

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, texte) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (texte !== undefined) e.textContent = texte;
  return e;
}

/**
 * Draws `points` ([{ libelle, valeur, etiquette }], valeur a number) into
 * `conteneur` as an SVG of `largeur` × `hauteur`, titled `titre`.
 */
export function barres(conteneur, points, { titre, largeur = 560, hauteur = 240 } = {}) {
  const marge = { haut: 24, bas: 34, gauche: 8, droite: 8 };
  const zone = hauteur - marge.haut - marge.bas;
  const max = Math.max(1, ...points.map((p) => p.valeur));
  const pas = (largeur - marge.gauche - marge.droite) / Math.max(1, points.length);
  const racine = svg("svg", { viewBox: `0 0 ${largeur} ${hauteur}`, role: "img", "aria-label": titre, class: "graphique", width: "100%" });
  racine.append(svg("title", {}, titre));
  racine.append(svg("line", { x1: marge.gauche, x2: largeur - marge.droite, y1: hauteur - marge.bas, y2: hauteur - marge.bas, stroke: "#4f5868" }));
  points.forEach((p, i) => {
    const h = Math.round((p.valeur / max) * zone);
    const x = marge.gauche + i * pas + pas * 0.15;
    const y = hauteur - marge.bas - h;
    racine.append(svg("rect", { x, y, width: pas * 0.7, height: Math.max(h, p.valeur > 0 ? 1 : 0), fill: "#0b5cad", "data-valeur": p.valeur, class: "barre-jour" }));
    racine.append(svg("text", { x: x + pas * 0.35, y: y - 6, "text-anchor": "middle", "font-size": 11, fill: "#1d2330" }, p.etiquette));
    racine.append(svg("text", { x: x + pas * 0.35, y: hauteur - marge.bas + 16, "text-anchor": "middle", "font-size": 11, fill: "#1d2330" }, p.libelle));
  });
  conteneur.replaceChildren(racine);
}
