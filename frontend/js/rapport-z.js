// Register sessions shown to people: the cash count of a closing (expected,
// counted, variance) and the Z-report of a closed session (the API's
// RapportZ, a snapshot taken at closing), laid out like a receipt so that it
// prints on the 80 mm receipt printer (the `imprimable` dialogs in app.css).

import { argent, cents, dateHeure, el } from "./format.js";

const MODES = { especes: "Espèces", carte: "Carte" };

/** "−5,00 $ (manque)", "+1,25 $ (surplus)", "0,00 $ (juste)": the variance in words, not colour alone. */
export function ecartTexte(ecart) {
  const c = cents(ecart);
  if (c === null) return String(ecart ?? "—");
  if (c < 0) return `−${argent(-c)} (manque)`;
  if (c > 0) return `+${argent(c)} (surplus)`;
  return `${argent(0)} (caisse juste)`;
}

/** The count of a closed session: a <dl> with expected, counted and variance. */
export function comptage(session) {
  const c = cents(session.ecart);
  return el("dl", { className: "totaux comptage" },
    el("dt", {}, "Espèces attendues"), el("dd", { "data-champ": "especes_attendues" }, argent(session.especes_attendues)),
    el("dt", {}, "Montant compté"), el("dd", { "data-champ": "montant_compte" }, argent(session.montant_compte)),
    el("dt", { className: "total" }, "Écart"),
    el("dd", { className: "total" + (c < 0 ? " alerte-texte" : ""), "data-champ": "ecart" }, ecartTexte(session.ecart)));
}

function ligne(libelle, valeur, champ, classe = "") {
  return el("div", { className: "recu-total " + classe }, el("span", {}, libelle), el("span", { "data-champ": champ }, valeur));
}

function titre(texte) {
  return el("h3", { className: "z-section" }, texte);
}

/** The Z-report, as elements to put in a `.recu` block; `idTitre` labels the dialog. */
export function rapportZ(z, idTitre = "titre-rapport-z") {
  const s = z.session;
  const v = z.ventes;
  const parMode = (v.par_mode || []).map((m) =>
    ligne(`${MODES[m.mode] || m.mode} (${m.nombre})`, argent(m.montant), `ventes-${m.mode}`));
  const e = z.especes;
  const recus = z.premier_recu === null || z.premier_recu === undefined
    ? "aucun"
    : `n° ${z.premier_recu} à n° ${z.dernier_recu}`;
  return [
    el("h2", { id: idTitre }, `Rapport Z — magasin ${z.magasin_id}`),
    el("p", { className: "centre" },
      `Caisse ${s.numero_caisse} — session n° ${s.id}`, el("br"),
      `Ouverte le ${dateHeure(s.ouverte_le)} par ${s.caissier_login}`, el("br"),
      `Fermée le ${dateHeure(s.fermee_le)} par ${s.fermee_par || "—"}`),
    titre("Ventes"),
    ligne("Nombre de ventes", String(v.nombre), "ventes-nombre"),
    ...parMode,
    ligne("Sous-total", argent(v.sous_total), "ventes-sous_total"),
    ligne("TPS (5 %)", argent(v.tps), "ventes-tps"),
    ligne("TVQ (9,975 %)", argent(v.tvq), "ventes-tvq"),
    ligne("Total des ventes", argent(v.total), "ventes-total", "fort"),
    titre("Retours et annulations"),
    ligne(`Retours (${z.retours.nombre})`, argent(z.retours.montant), "retours-montant"),
    ligne(`Annulations (${z.annulations.nombre})`, argent(z.annulations.montant), "annulations-montant"),
    ligne("Reçus", recus, "recus"),
    titre("Espèces"),
    ligne("Fond de caisse", argent(e.fond), "especes-fond"),
    ligne("+ ventes en espèces", argent(e.ventes), "especes-ventes"),
    ligne("− remboursements", argent(e.remboursements), "especes-remboursements"),
    ligne("Espèces attendues", argent(e.attendu), "especes-attendu", "fort"),
    ligne("Montant compté", argent(e.compte), "especes-compte"),
    el("div", { className: "recu-monnaie z-ecart" }, el("span", {}, "Écart"), el("strong", { "data-champ": "especes-ecart" }, ecartTexte(e.ecart))),
    z.journal
      ? el("p", { className: "z-journal" }, `Journal des ventes : entrée n° ${z.journal.sequence}`, el("br"),
        el("small", { "data-champ": "journal-empreinte" }, `Empreinte ${z.journal.empreinte}`))
      : null,
    el("p", { className: "centre" }, el("small", {}, `Rapport généré le ${dateHeure(z.genere_le)}`)),
  ].filter(Boolean);
}
