// Head office in Chromium: the catalogue list (search, paging), editing a
// price and seeing it at the register, and a concurrent edit: the 412 shows
// the other person's values, then the admin keeps theirs.

import { accessible, apiJson, assert, BASE, capture, connexion, executer, jeton, nouvellePage, ouvrirCaisse } from "./lib.mjs";

const fr = (s) => new Intl.NumberFormat("fr-CA", { style: "currency", currency: "CAD" }).format(Number(s));

executer(async (browser) => {
  const admin = await jeton("admin");
  const page = await nouvellePage(browser);
  await connexion(page, "admin", "/tableau.html");
  await page.goto(BASE + "/produits.html");
  await page.locator("#produits tbody tr").first().waitFor();
  assert(await page.locator("#produits tbody tr").count() === 20, "une page de 20 produits");
  await page.click("#btn-suivants");
  await page.locator('#produits tr[data-produit="21"]').waitFor();
  await page.click("#btn-precedents");
  await page.locator('#produits tr[data-produit="1"]').waitFor();

  // Create a product: barcode with its GS1 check digit.
  const corps = "77012345678";
  const somme = [...corps].reverse().reduce((t, d, i) => t + Number(d) * (i % 2 === 0 ? 3 : 1), 0);
  const code = corps + ((10 - (somme % 10)) % 10);
  await page.click("#btn-nouveau");
  await page.fill("#nom", "Sirop de bouleau 250 ml");
  await page.fill("#description", "Produit ajouté par le test du siège");
  await page.fill("#prix", "11.95");
  await page.fill("#code_barres", code);
  await page.click("#btn-enregistrer");
  await page.locator("#message", { hasText: "enregistré (version 1)" }).waitFor();
  const cree = (await apiJson("GET", `/api/produits?q=${code}`, admin)).produits[0];
  assert(cree && cree.nom === "Sirop de bouleau 250 ml" && cree.prix === "11.95", `produit créé : ${JSON.stringify(cree)}`);

  // Search, open product 7, change its price.
  const p7 = await apiJson("GET", "/api/produits/7", admin);
  await page.fill("#q", p7.nom);
  await page.press("#q", "Enter");
  await page.locator('#produits tr[data-produit="7"]').waitFor();
  await page.click(`button[aria-label="Modifier ${p7.nom}"]`);
  await page.waitForFunction((nom) => document.querySelector("#nom").value === nom, p7.nom);
  await accessible(page, "catalogue et éditeur");
  const prix1 = "13.37";
  await page.fill("#prix", prix1);
  await page.click("#btn-enregistrer");
  await page.locator("#message", { hasText: "Produit n° 7 enregistré (version 2)" }).waitFor();

  // Bad barcode: refused in text, next to the field.
  await page.fill("#code_barres", "4006381333932");
  await page.click("#btn-enregistrer");
  await page.locator("#err-code_barres", { hasText: "chiffre de contrôle invalide (attendu 1)" }).waitFor();
  await page.fill("#code_barres", p7.code_barres);

  // The register sees the new price.
  const caisse = await nouvellePage(browser);
  await connexion(caisse, "caissier1", "/caisse.html");
  await ouvrirCaisse(caisse, 1);
  await caisse.fill("#q", p7.nom);
  await caisse.press("#q", "Enter");
  const r = caisse.locator("button.resultat", { hasText: p7.nom }).first();
  await r.waitFor();
  assert((await r.innerText()).includes(fr(prix1).replace(/\u00a0/g, " ").split(" ")[0]), `prix à la caisse : ${await r.innerText()}`);
  await caisse.context().close();

  // Concurrent edit: another admin renames it while this page holds the old version.
  const lu = await fetch(BASE + "/api/produits/7", { headers: { authorization: "Bearer " + admin } });
  const autreNom = p7.nom + " (format familial)";
  await apiJson("PATCH", "/api/produits/7", admin, { nom: autreNom }, { "if-match": lu.headers.get("etag") });
  const prix2 = "14.25";
  await page.fill("#prix", prix2);
  await page.click("#btn-enregistrer");
  await page.locator("#conflit").waitFor();
  const leurs = await page.locator('#conflit td.leurs[data-champ="nom"]').innerText();
  const miennes = await page.locator('#conflit td.miennes[data-champ="prix"]').innerText();
  assert(leurs === autreNom && miennes === prix2, `conflit : leurs=${leurs}, miennes=${miennes}`);
  await accessible(page, "conflit de modification");
  await capture(page, "siege-editeur-conflit", { fullPage: true });
  await page.click("#btn-garder-miennes");
  await page.locator("#message", { hasText: "Produit n° 7 enregistré (version 4)" }).waitFor();
  const fin = await apiJson("GET", "/api/produits/7", admin);
  assert(fin.prix === prix2, `prix final ${fin.prix}`);
  // The editor's trail (produit's historique): newest first, the price change by admin.
  await page.locator("#historique li").first().filter({ hasText: `→ ${prix2}` }).waitFor();
  const dernier = await page.locator("#historique li").first().innerText();
  assert(dernier.includes("admin") && dernier.includes(`→ ${prix2}`), `historique : ${dernier}`);
  await capture(page, "siege-editeur", { fullPage: true });
  return { produit: 7, prix: prix2, nom: fin.nom, cree: cree.id };
});
