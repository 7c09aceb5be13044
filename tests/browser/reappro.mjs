// Restocking in Chromium: the store's gérant submits the suggested request
// as is and sees its trail; logistics sees it in the queue with the centre's
// stock, approves the first line partly and ships (a double click ships
// once); the store confirms reception with one unit missing and a reason.

import { accessible, apiJson, assert, BASE, capture, connexion, executer, jeton, nouvellePage } from "./lib.mjs";

executer(async (browser) => {
  const tg = await jeton("gerant2");
  const tl = await jeton("logistique");
  const suggestion = await apiJson("GET", "/api/stocks/demandes/suggestion", tg);
  assert(suggestion.lignes.length > 0, "le magasin 2 a des produits sous leur seuil");
  const premier = suggestion.lignes[0];

  // The store: the suggestion, submitted as is.
  const magasin = await nouvellePage(browser);
  await connexion(magasin, "gerant2", "/caisse.html");
  await magasin.goto(BASE + "/reappro.html");
  await magasin.locator(`#suggestion tr[data-produit="${premier.produit_id}"]`).waitFor();
  assert(await magasin.locator("#suggestion tbody tr").count() === suggestion.lignes.length, "une ligne par produit suggéré");
  assert(await magasin.inputValue(`#suggere-${premier.produit_id}`) === String(premier.quantite), "quantité suggérée jusqu’au niveau cible");
  await accessible(magasin, "réapprovisionnement");
  await magasin.click("#btn-soumettre");
  const envoyee = await magasin.locator("#message", { hasText: "envoyée au centre logistique" }).innerText();
  const id = Number(/n° (\d+)/.exec(envoyee)[1]);
  const carteMagasin = magasin.locator(`article[data-demande="${id}"]`);
  await carteMagasin.locator(".historique", { hasText: "Créée par gerant2" }).waitFor();
  // Submitted: the suggestion is empty now (every line is covered).
  await magasin.locator("#suggestion-vide").waitFor();
  await capture(magasin, "reappro-demande");

  // Logistics: the queue with the centre's stock, a partial approval, one shipment.
  const centre = (await apiJson("GET", `/api/stocks/magasins/6/produits/${premier.produit_id}`, tl)).quantite;
  const logi = await nouvellePage(browser);
  await connexion(logi, "logistique", "/logistique.html");
  const carte = logi.locator(`article[data-demande="${id}"]`);
  await carte.waitFor();
  const ligne = carte.locator(`tr[data-produit="${premier.produit_id}"]`);
  assert((await ligne.innerText()).includes(String(centre)), `stock du centre à côté de la ligne : ${await ligne.innerText()}`);
  const approuve = premier.quantite - 2;
  await logi.fill(`#approuve-${id}-${premier.produit_id}`, String(approuve));
  await logi.click(`#btn-approuver-${id}`);
  await logi.locator(`article[data-demande="${id}"][data-statut="approuvee"]`).waitFor();
  await accessible(logi, "logistique (demandes)");
  await capture(logi, "logistique-demandes");
  await logi.dblclick(`#btn-expedier-${id}`);
  await logi.locator("#message", { hasText: `Demande n° ${id} expédiée au magasin 2` }).waitFor();
  await carte.waitFor({ state: "detached" });

  // The store again: reception with one unit missing, and its reason.
  await magasin.reload();
  await magasin.locator(`article[data-demande="${id}"][data-statut="expediee"]`).waitFor();
  const recu = approuve - 1;
  await magasin.fill(`#recu-${id}-${premier.produit_id}`, String(recu));
  await magasin.click(`#btn-reception-${id}`);
  await magasin.locator("#message", { hasText: "motif" }).waitFor();
  await magasin.fill(`#motif-${id}`, "carton endommagé");
  await magasin.click(`#btn-reception-${id}`);
  const recue = magasin.locator(`article[data-demande="${id}"][data-statut="recue"]`);
  await recue.waitFor();
  const trail = await recue.locator(".historique").innerText();
  for (const attendu of ["Créée par gerant2", "Approuvée par logistique", "Expédiée par logistique", "Reçue par gerant2", "carton endommagé"]) {
    assert(trail.includes(attendu), `historique : « ${attendu} » dans ${trail}`);
  }
  await capture(magasin, "reappro-recue");
  return { demande: id, produit: premier.produit_id, approuve, recu, lignes: suggestion.lignes.map((l) => [l.produit_id, l.quantite]) };
});
