// Register sessions in Chromium: a cashier opens register 2 with a 150 $
// float, sells one item for cash, takes the session back on another device,
// and leaves the register open; the store's
// gérant sees it open at the register list, closes it from the sessions page
// with the cash counted (25 ¢ over), reads the variance and the Z-report and
// its print view, and finds it among the closed sessions; back at the
// register, the next scan is refused (session closed) and the page returns to
// the register list with the reason.

import { accessible, apiJson, assert, capture, connexion, executer, jeton, nouvellePage, ouvrirCaisse } from "./lib.mjs";

const cents = (s) => Math.round(Number(s) * 100);
const dec = (c) => (c / 100).toFixed(2);
const fr = (c) => new Intl.NumberFormat("fr-CA", { style: "currency", currency: "CAD" }).format(c / 100);

executer(async (browser) => {
  const t = await jeton("caissier1");
  const p5 = await apiJson("GET", "/api/produits/5", t);

  // The cashier: register 2, one cash sale.
  const caisse = await nouvellePage(browser);
  await connexion(caisse, "caissier1", "/caisse.html");
  const sessionId = await ouvrirCaisse(caisse, 2, "150.00");
  await caisse.fill("#q", p5.code_barres);
  await caisse.press("#q", "Enter");
  await caisse.waitForFunction(() => {
    const tr = document.querySelector('tr[data-produit="5"]');
    return tr && document.body.dataset.modifications === "0";
  });
  await caisse.keyboard.press("F8");
  await caisse.fill("#montant-recu", "100.00");
  await caisse.click("#btn-encaisser");
  await caisse.locator("#dialogue-recu[open]").waitFor();
  const numero = Number((await caisse.locator("#recu").innerText()).match(/Reçu n° (\d+)/)[1]);
  await caisse.keyboard.press("Escape");
  const vente = (await apiJson("GET", "/api/ventes?limit=10", t)).ventes.find((v) => v.numero === numero);
  const recu = await apiJson("GET", `/api/ventes/${vente.id}`, t);
  assert(recu.session_id === sessionId, `la vente appartient à la session : ${JSON.stringify(recu)}`);
  const attendu = 15000 + cents(recu.paiement.a_payer);

  // The same cashier on another device: register 2 is shown open by them, taken back as is.
  const autre = await nouvellePage(browser);
  await connexion(autre, "caissier1", "/caisse.html");
  await autre.locator('#caisses tr[data-numero="2"][data-etat="ouverte"]', { hasText: "caissier1" }).waitFor();
  await autre.click('button[aria-label="Reprendre ma session sur Caisse 2"]');
  await autre.waitForFunction((id) => document.body.dataset.session === String(id), sessionId);
  await autre.context().close();

  // The gérant: register 2 shown open by caissier1, closed from the sessions page.
  const gerant = await nouvellePage(browser);
  await connexion(gerant, "gerant1", "/caisse.html");
  await gerant.locator('#caisses tr[data-numero="2"][data-etat="ouverte"]', { hasText: "caissier1" }).waitFor();
  await gerant.click("#lien-sessions");
  await gerant.waitForURL("**/sessions.html");
  const ligne = gerant.locator(`#ouvertes tr[data-session="${sessionId}"]`);
  await ligne.waitFor();
  assert((await ligne.innerText()).includes("caissier1"), `la session ouverte nomme le caissier : ${await ligne.innerText()}`);
  await accessible(gerant, "sessions de caisse");
  await capture(gerant, "sessions-ouvertes");
  await ligne.locator("button").click();
  await gerant.locator("#dialogue-fermeture[open]").waitFor();
  await accessible(gerant, "fermeture d’une session (gérant)");
  await gerant.fill("#montant-compte", "");
  await gerant.click("#btn-confirmer-fermeture");
  await gerant.locator("#fermeture-message", { hasText: "Montant compté" }).waitFor();
  const compte = attendu + 25;
  await gerant.fill("#montant-compte", dec(compte));
  await gerant.click("#btn-confirmer-fermeture");
  await gerant.waitForFunction((id) => document.body.dataset.rapportZ === String(id), sessionId);
  const champ = (nom) => gerant.locator(`#dialogue-z [data-champ="${nom}"]`).innerText();
  assert(await champ("especes_attendues") === fr(attendu), `attendu ${await champ("especes_attendues")} ≠ ${fr(attendu)}`);
  assert(await champ("ecart") === `+${fr(25)} (surplus)`, `écart : ${await champ("ecart")}`);
  assert(await champ("ventes-nombre") === "1", `ventes du rapport Z : ${await champ("ventes-nombre")}`);
  assert(await champ("ventes-total") === fr(cents(recu.total)), `total du rapport Z : ${await champ("ventes-total")}`);
  assert(await champ("especes-ventes") === fr(cents(recu.paiement.a_payer)), "espèces encaissées du rapport Z");
  await accessible(gerant, "rapport Z (gérant)");
  await capture(gerant, "sessions-rapport-z");
  await gerant.emulateMedia({ media: "print" });
  assert(!(await gerant.locator("main").isVisible()) && (await gerant.locator("#rapport-z").isVisible()),
    "à l'impression, seul le rapport Z paraît");
  await capture(gerant, "sessions-rapport-z-impression", { fullPage: true });
  await gerant.emulateMedia({ media: "screen" });
  await gerant.click("#btn-fermer-z");
  // Now among the closed sessions (with its variance in words), no longer open.
  const fermee = gerant.locator(`#fermees tr[data-session="${sessionId}"]`);
  await fermee.waitFor();
  assert((await fermee.innerText()).includes("(surplus)"), `session fermée : ${await fermee.innerText()}`);
  assert(await gerant.locator(`#ouvertes tr[data-session="${sessionId}"]`).count() === 0, "plus parmi les sessions ouvertes");
  // Its Z-report again from the list: the same figures (a snapshot).
  await fermee.locator("button").click();
  await gerant.waitForFunction(() => document.querySelector("#dialogue-z[open]"));
  assert(await champ("especes-ecart") === `+${fr(25)} (surplus)`, "le rapport Z relu est le même");
  await gerant.keyboard.press("Escape");
  await accessible(gerant, "sessions de caisse (après fermeture)");
  await capture(gerant, "sessions-magasin");

  // Back at the register left open: the next scan finds the session closed.
  await caisse.fill("#q", p5.code_barres);
  await caisse.press("#q", "Enter");
  await caisse.locator("#choix-caisse").waitFor();
  const avis = await caisse.locator("#message").innerText();
  assert(/ferm/.test(avis), `la caisse dit pourquoi : ${avis}`);
  await caisse.locator('#caisses tr[data-numero="2"][data-etat="libre"]').waitFor();
  return { session: sessionId, vente: vente.id, attendu: dec(attendu), compte: dec(compte) };
});
