// Logistics in Chromium: ship from the logistics centre to store 2 with the
// centre's and the store's stock beside the line; a double click ships once
// (one key per shipment); a shortage names the line.

import { accessible, apiJson, assert, capture, connexion, executer, jeton, nouvellePage } from "./lib.mjs";

executer(async (browser) => {
  const t = await jeton("logistique");
  const p9 = await apiJson("GET", "/api/produits/9", t);
  const centre = (await apiJson("GET", "/api/stocks/magasins/6/produits/9", t)).quantite;
  const page = await nouvellePage(browser);
  await connexion(page, "logistique", "/logistique.html");
  await page.locator('#destination option[value="2"]').waitFor({ state: "attached" });
  await page.selectOption("#destination", "2");
  await page.fill("#q", p9.nom);
  await page.press("#q", "Enter");
  await page.click(`button[aria-label="Ajouter ${p9.nom} à l’envoi"]`);
  const ligne = page.locator('#lignes tr[data-produit="9"]');
  await ligne.waitFor();
  assert((await ligne.innerText()).includes(String(centre)), `stock du centre affiché : ${await ligne.innerText()}`);
  await accessible(page, "logistique");

  // Too much: the shortage names the line, nothing shipped.
  await page.fill("#envoi-9", String(centre + 1));
  await page.press("#envoi-9", "Enter");
  await page.click("#btn-expedier");
  await page.locator('#lignes tr[data-produit="9"]', { hasText: `${centre} disponible` }).waitFor();
  assert((await page.locator("#message").innerText()).includes("Stock insuffisant"), "message de stock insuffisant");

  await page.fill("#envoi-9", "12");
  await page.press("#envoi-9", "Enter");
  await page.dblclick("#btn-expedier");
  await page.locator("#message", { hasText: "expédié au magasin 2" }).waitFor();
  await page.locator('#lignes tr[data-produit="9"]', { hasText: String(centre - 12) }).waitFor();
  // The same lines again: refused until changed (no second shipment by accident).
  await page.click("#btn-expedier");
  await page.locator("#message", { hasText: "vient d’être expédié" }).waitFor();
  await capture(page, "logistique-envoi");
  return { produit: 9, expedie: 12 };
});
