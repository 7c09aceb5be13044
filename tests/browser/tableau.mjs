// The head office dashboard in Chromium: two sales in two stores reach it
// through reporting (every store side by side), the trend chart draws
// today's bar, top products, the stock alerts with their state in words,
// the CSV export downloaded through the page, and the store stock page.

import { readFileSync } from "node:fs";
import { accessible, apiJson, assert, BASE, capture, connexion, executer, jeton, nouvellePage, sessionApi } from "./lib.mjs";

async function vendre(login, produitId, quantite) {
  const t = await jeton(login);
  // Every cart belongs to an open register session.
  const session = await sessionApi(t, 1);
  const panier = await apiJson("POST", "/api/paniers", t, { session_id: session.id });
  await apiJson("PUT", `/api/paniers/${panier.id}/lignes/${produitId}`, t, { quantite });
  return apiJson("POST", "/api/ventes", t, { panier_id: panier.id, paiement: { mode: "carte" } }, { "idempotency-key": crypto.randomUUID() });
}

executer(async (browser) => {
  const admin = await jeton("admin");
  const v1 = await vendre("caissier1", 4, 2);
  const v2 = await vendre("caissier2", 5, 1);
  const page = await nouvellePage(browser);
  await connexion(page, "admin", "/tableau.html");
  // Reporting reads the sales from vente's events: refresh until both are in (bounded).
  const limiteVentes = Date.now() + 30000;
  for (;;) {
    await page.waitForFunction(() => document.body.dataset.charge !== undefined);
    if (Number(await page.evaluate(() => document.body.dataset.charge)) >= 2) break;
    assert(Date.now() < limiteVentes, "le tableau de bord n'a pas reçu les 2 ventes en 30 s");
    await page.evaluate(() => { delete document.body.dataset.charge; });
    await page.click("#btn-actualiser");
  }
  const fr = (s) => new Intl.NumberFormat("fr-CA", { style: "currency", currency: "CAD" }).format(Number(s));
  for (const [m, v] of [[1, v1], [2, v2]]) {
    const ligne = await page.locator(`#ventes-magasins tr[data-magasin="${m}"]`).innerText();
    assert(ligne.includes(fr(v.total)), `magasin ${m} : ${ligne} (vente de ${v.total})`);
  }
  const hauteurs = await page.$$eval("svg.graphique rect.barre-jour", (rs) => rs.map((r) => Number(r.getAttribute("height"))));
  assert(hauteurs.length === 7 && hauteurs[6] > 0, `la barre d'aujourd'hui est dessinée : ${hauteurs}`);
  assert(await page.locator("#top-montant li").count() === 2, "les 2 produits vendus sont classés");
  assert(await page.locator("#ventes-magasins tbody tr").count() === 5, "les 5 magasins côte à côte");
  // Stock alerts: what reporting holds (it is still reading stock's events
  // at start-up, so refresh until the page and the API agree; bounded).
  const limite = Date.now() + 30000;
  let alertes;
  for (;;) {
    alertes = (await apiJson("GET", "/api/rapports/stocks?alertes=true&limit=100", admin)).stocks;
    await page.evaluate(() => { delete document.body.dataset.charge; });
    await page.click("#btn-actualiser");
    await page.waitForFunction(() => document.body.dataset.charge !== undefined);
    const lignes = await page.locator("#alertes tbody tr").count();
    if (alertes.length > 0 && lignes === Math.min(100, alertes.length)) break;
    assert(Date.now() < limite, `alertes affichées ${lignes}, attendues ${alertes.length}`);
  }
  const premiere = await page.locator("#alertes tbody tr").first().innerText();
  assert(/Rupture|Sous le seuil|Surstock/.test(premiere), `état écrit en toutes lettres : ${premiere}`);
  await accessible(page, "tableau de bord");
  await capture(page, "siege-tableau-de-bord", { fullPage: true });

  const [telechargement] = await Promise.all([page.waitForEvent("download"), page.click("#btn-csv")]);
  const csv = readFileSync(await telechargement.path(), "utf8");
  assert(csv.split("\n")[0].includes(";"), `CSV : ${csv.slice(0, 200)}`);
  // Store stock page (any store for head office), states in words.
  await page.goto(BASE + "/stock.html");
  await page.fill("#magasin-id", "3");
  await page.press("#magasin-id", "Enter");
  await page.locator("#stocks tbody tr").first().waitFor();
  assert(await page.locator("#stocks tbody tr").count() === 50, "une page de 50 produits");
  await accessible(page, "stock du magasin");
  const alertes3 = (await apiJson("GET", "/api/stocks/alertes?magasin_id=3&limit=100", admin)).alertes;
  await page.check("#alertes-seulement");
  await page.waitForFunction((n) => document.querySelectorAll("#stocks tbody tr").length === n, alertes3.length);
  const texte = await page.locator("#stocks tbody").innerText();
  assert(alertes3.length > 0 && /Rupture|Sous le seuil|Surstock/.test(texte), `alertes du magasin 3 : ${texte.slice(0, 200)}`);
  await capture(page, "stock-magasin");
  return { ventes: [v1.id, v2.id], alertes: alertes.length, csv_lignes: csv.trim().split("\n").length };
});
