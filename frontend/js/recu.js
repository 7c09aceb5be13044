// The receipt of a sale (the API's Recu), shown in a dialog and printable
// on an 80 mm receipt printer (see @media print in app.css).

import { argent, dateHeure, el } from "./format.js";

const $ = (id) => document.getElementById(id);
const STATUTS = { terminee: "Payée", annulation: "Annulation en cours", annulee: "Annulée" };

let apresFermeture = () => {};

export function initRecu(apres) {
  apresFermeture = apres;
  $("btn-imprimer").addEventListener("click", () => window.print());
  $("btn-fermer-recu").addEventListener("click", () => $("dialogue-recu").close());
  $("dialogue-recu").addEventListener("close", () => apresFermeture());
}

function ligneTotal(libelle, valeur, classe = "") {
  return el("div", { className: "recu-total " + classe }, el("span", {}, libelle), el("span", {}, valeur));
}

/** Renders `recu` into the dialog and opens it. */
export function afficherRecu(recu) {
  const p = recu.paiement;
  const contenu = [
    el("h2", { id: "titre-recu" }, "Caisse — magasin " + recu.magasin_id),
    el("p", { className: "centre" }, `Reçu n° ${recu.numero}`, el("br"), dateHeure(recu.terminee_le || recu.cree_le),
      el("br"), `Caissier·ère : ${recu.caissier_login}`),
    recu.statut !== "terminee" ? el("p", { className: "alerte-texte centre" }, STATUTS[recu.statut] || recu.statut) : null,
    el("table", { className: "recu-lignes" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Article"), el("th", { scope: "col", className: "nombre" }, "Qté"), el("th", { scope: "col", className: "nombre" }, "Total"))),
      el("tbody", {}, recu.lignes.map((l) => el("tr", {},
        el("td", {}, l.nom, el("br"), el("small", {}, `${argent(l.prix_unitaire)} l’unité`)),
        el("td", { className: "nombre" }, String(l.quantite)),
        el("td", { className: "nombre" }, argent(l.total_ligne)))))),
    ligneTotal("Sous-total", argent(recu.sous_total)),
    ligneTotal("TPS (5 %)", argent(recu.tps)),
    ligneTotal("TVQ (9,975 %)", argent(recu.tvq)),
    ligneTotal("Total", argent(recu.total), "fort"),
  ];
  if (p.mode === "especes") {
    contenu.push(
      ligneTotal("Arrondi (0,05 $)", argent(p.arrondi)),
      ligneTotal("À payer en espèces", argent(p.a_payer), "fort"),
      ligneTotal("Reçu", argent(p.montant_recu)),
      el("div", { className: "recu-monnaie" }, el("span", {}, "Monnaie rendue"), el("strong", { id: "recu-monnaie" }, argent(p.monnaie))));
  } else {
    contenu.push(ligneTotal("Payé par carte", argent(p.a_payer), "fort"));
  }
  for (const r of recu.retours || []) {
    contenu.push(el("p", { className: "recu-retour" },
      `Retour n° ${r.id} : ${r.lignes.map((l) => `${l.quantite} × produit ${l.produit_id}`).join(", ")} — remboursé ${argent(r.montant.total)}`));
  }
  contenu.push(el("p", { className: "centre" }, "Merci de votre visite !"));
  $("recu").replaceChildren(...contenu.filter(Boolean));
  const d = $("dialogue-recu");
  if (!d.open) d.showModal();
  $("btn-imprimer").focus();
}
