// The cashier register in Chromium: log in, pick register 1 and open its
// session with a 200 $ float, scan, search by name, change a quantity, reload mid-cart, a second tab, a refused token (back to login,
// work kept), pay cash (change shown), receipt and its print stylesheet,
// double-click checkout (one sale), a lost checkout answer retried with the
// same key (one sale), out of stock names the line, today's sales (partial
// return, reprint; a gérant cancels), then close the register with a 5 $
// shortage: the exact variance, the Z-report (its print view). Prints the
// sales it made and the session.

import { accessible, apiJson, assert, BASE, capture, connexion, executer, jeton, nouvellePage, ouvrirCaisse } from "./lib.mjs";

// Independent of the page's code: the README's money rules, in cents.
const arrondi = (n, d) => Math.floor((2 * n + d) / (2 * d));
function attendu(sousTotal) {
  const tps = arrondi(sousTotal * 5, 100), tvq = arrondi(sousTotal * 9975, 100000);
  const total = sousTotal + tps + tvq;
  return { total, aPayer: arrondi(total, 5) * 5 };
}
const cents = (s) => Math.round(Number(s) * 100);
const dec = (c) => (c / 100).toFixed(2);
const fr = (c) => new Intl.NumberFormat("fr-CA", { style: "currency", currency: "CAD" }).format(c / 100);
const texte = (page, sel) => page.locator(sel).innerText();

async function lignes(page) {
  return page.$$eval("#lignes tbody tr", (trs) => trs.map((tr) => ({
    produit: Number(tr.dataset.produit), quantite: Number(tr.querySelector("input.quantite").value),
  })));
}

async function attendreLigne(page, produit, quantite) {
  // The row as panier answered, and no cart edit in flight.
  await page.waitForFunction(([p, q]) => {
    const tr = document.querySelector(`tr[data-produit="${p}"]`);
    return tr && Number(tr.dataset.quantite) === q && document.body.dataset.modifications === "0";
  }, [produit, quantite]);
}

executer(async (browser) => {
  const t = await jeton("caissier1");
  const p1 = await apiJson("GET", "/api/produits/1", t);
  const p2 = await apiJson("GET", "/api/produits/2", t);
  const ventes = [];
  const page = await nouvellePage(browser);

  // Login page, then the register (caissier -> /caisse.html).
  await page.goto(BASE + "/index.html");
  await accessible(page, "connexion");
  await capture(page, "connexion");
  await connexion(page, "caissier1", "/caisse.html");

  // No session yet: the store's registers, which are open and by whom, a float to open one.
  await page.locator('#caisses tr[data-numero="1"][data-etat="libre"]').waitFor();
  assert(!(await page.locator("#q").isVisible()), "pas de vente avant d’avoir ouvert une caisse");
  await accessible(page, "choix de la caisse");
  await capture(page, "caisse-choix");
  await page.fill('#caisses tr[data-numero="1"] input', "deux cents");
  await page.click('#caisses tr[data-numero="1"] button');
  await page.locator("#message.erreur", { hasText: "Fond de caisse" }).waitFor();
  const sessionId = await ouvrirCaisse(page, 1, "200.00");
  const ouverte = await apiJson("GET", `/api/caisses/sessions/${sessionId}`, t);
  assert(ouverte.statut === "ouverte" && ouverte.fond_de_caisse === "200.00" && ouverte.caissier_login === "caissier1",
    `session ouverte : ${JSON.stringify(ouverte)}`);
  assert((await texte(page, "#poste")).includes(`session n° ${sessionId}`), "l’en-tête nomme la session");

  // Scan: digits typed into the focused field, then Enter -> added at once.
  await page.keyboard.type(p1.code_barres);
  await page.keyboard.press("Enter");
  await attendreLigne(page, 1, 1);
  assert(await page.evaluate(() => document.activeElement.id) === "q", "le champ de recherche garde le focus après un scan");

  // Name search: the list shows the price and this store's stock.
  const motCle = p2.nom.split(" ")[0];
  await page.keyboard.type(motCle);
  await page.keyboard.press("Enter");
  const resultat = page.locator("button.resultat", { hasText: p2.nom }).first();
  await resultat.waitFor();
  const stock2 = (await apiJson("GET", "/api/stocks/magasins/1/produits/2", t)).quantite;
  const libelle = await resultat.innerText();
  assert(libelle.includes(fr(cents(p2.prix)).replace(/\s/g, " ").slice(0, 3)) && libelle.includes(`${stock2} en stock`),
    `le résultat montre prix et stock : « ${libelle} »`);
  await resultat.click();
  await attendreLigne(page, 2, 1);

  // Quantity: typed in the line, and the + button.
  await page.fill("#quantite-1", "3");
  await page.press("#quantite-1", "Enter");
  await attendreLigne(page, 1, 3);
  await page.click('button[aria-label^="Ajouter un ' + p2.nom + '"]');
  await attendreLigne(page, 2, 2);
  await accessible(page, "caisse (vente en cours)");

  // Reload mid-cart: the cart lives in panier.
  const avant = await lignes(page);
  await page.reload();
  await attendreLigne(page, 2, 2);
  const apres = await lignes(page);
  assert(JSON.stringify(avant) === JSON.stringify(apres), `panier intact après rechargement : ${JSON.stringify(apres)}`);
  assert(await page.evaluate(() => document.body.dataset.session) === String(sessionId), "la session est reprise au rechargement");
  const panierOuvert = (await apiJson("GET", "/api/paniers", t)).paniers[0];
  assert(panierOuvert.session_id === sessionId, `le panier appartient à la session : ${JSON.stringify(panierOuvert)}`);

  // A second tab of the same register shows the same cart (it lives in panier).
  const onglet = await page.context().newPage();
  await onglet.goto(BASE + "/caisse.html");
  await attendreLigne(onglet, 2, 2);
  assert(JSON.stringify(await lignes(onglet)) === JSON.stringify(avant), "le 2e onglet montre le même panier");
  await onglet.close();

  // A refused token (expired, revoked): back to login with a message, then
  // back to the register with the cart and the typed text kept.
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem("caisse.session"));
    s.jeton = "jeton.refuse.0";
    localStorage.setItem("caisse.session", JSON.stringify(s));
  });
  await page.fill("#q", "brouillon 42");
  await page.click('button[aria-label^="Ajouter un ' + p2.nom + '"]');
  await page.waitForURL("**/index.html?retour=*");
  const avis = await page.locator("#message").innerText();
  assert(avis.includes("session a expiré") && avis.includes("conservé"), `message de connexion : ${avis}`);
  await page.fill("#login", "caissier1");
  await page.fill("#mot_de_passe", "demo1234");
  await page.click("#btn-connexion");
  await page.waitForURL("**/caisse.html");
  await attendreLigne(page, 2, 2);
  assert(JSON.stringify(await lignes(page)) === JSON.stringify(avant), "panier intact après reconnexion");
  assert(await page.inputValue("#q") === "brouillon 42", "le texte saisi est conservé");
  await page.fill("#q", "");

  // Totals shown = the README's rules on panier's subtotal.
  const panier = (await apiJson("GET", "/api/paniers", t)).paniers[0];
  const a = attendu(cents(panier.sous_total));
  assert((await texte(page, "#t-total")) === fr(a.total), `total affiché ${await texte(page, "#t-total")} ≠ ${fr(a.total)}`);
  assert((await texte(page, "#a-payer")) === fr(a.aPayer), "à payer en espèces arrondi au 0,05 $");

  // Cash: tendered -> change shown large before paying.
  const recu = Math.ceil((a.aPayer + 1) / 1000) * 1000; // next 10 $ note above
  await page.keyboard.press("F8");
  await page.fill("#montant-recu", dec(recu));
  assert((await texte(page, "#monnaie")) === fr(recu - a.aPayer), `monnaie affichée ${await texte(page, "#monnaie")}`);
  await capture(page, "caisse-vente-en-cours");

  // Double click on checkout: one sale.
  await page.dblclick("#btn-encaisser");
  await page.locator("#dialogue-recu[open]").waitFor();
  const monnaie = await texte(page, "#recu-monnaie");
  assert(monnaie === fr(recu - a.aPayer), `monnaie du reçu ${monnaie}`);
  const numero = Number((await texte(page, "#recu")).match(/Reçu n° (\d+)/)[1]);
  await accessible(page, "reçu");
  await capture(page, "caisse-recu");
  await page.emulateMedia({ media: "print" });
  assert(!(await page.locator("main.caisse").isVisible()) && (await page.locator("#recu").isVisible()),
    "à l'impression, seul le reçu paraît");
  await capture(page, "caisse-recu-impression", { fullPage: true });
  await page.emulateMedia({ media: "screen" });
  await page.keyboard.press("Escape");
  const liste = (await apiJson("GET", "/api/ventes?limit=10", t)).ventes;
  const vente = liste.find((v) => v.numero === numero);
  assert(vente, "la vente du reçu existe");
  ventes.push({ id: vente.id, total_affiche: dec(a.total) });
  assert(await page.locator("#panier-vide").isVisible(), "après la vente, le panier est vide");

  // Out of stock: more than the store holds -> the message names the line.
  const stock3 = (await apiJson("GET", "/api/stocks/magasins/1/produits/3", t)).quantite;
  const p3 = await apiJson("GET", "/api/produits/3", t);
  await page.keyboard.type(p3.code_barres);
  await page.keyboard.press("Enter");
  await attendreLigne(page, 3, 1);
  await page.fill("#quantite-3", String(stock3 + 1));
  await page.press("#quantite-3", "Enter");
  await attendreLigne(page, 3, stock3 + 1);
  await page.keyboard.press("F9");
  await page.keyboard.press("F4");
  const message = page.locator("#message.erreur");
  await message.waitFor();
  const m = await message.innerText();
  assert(m.includes(p3.nom) && m.includes(`${stock3} disponible`), `le message nomme la ligne : « ${m} »`);
  assert(await page.locator('tr[data-produit="3"].en-defaut').isVisible(), "la ligne en défaut est marquée");
  await capture(page, "caisse-rupture");

  // Fix the quantity, pay by card — and the answer is lost on the way back
  // (vente records the sale, the register never hears of it).
  await page.fill("#quantite-3", "1");
  await page.press("#quantite-3", "Enter");
  await attendreLigne(page, 3, 1);
  await page.keyboard.press("F9");
  const cles = [];
  await page.route("**/api/ventes", async (route) => {
    if (route.request().method() !== "POST") return route.continue();
    cles.push(route.request().headers()["idempotency-key"]);
    if (cles.length > 1) return route.continue();
    await route.fetch();
    return route.abort("connectionreset");
  });
  await page.click("#btn-encaisser");
  await page.locator("#etat-encaissement", { hasText: "Aucune réponse définitive" }).waitFor();
  // Retry (F4): the same key, so vente answers with the sale it already recorded.
  await page.keyboard.press("F4");
  await page.locator("#dialogue-recu[open]").waitFor();
  await page.unroute("**/api/ventes");
  assert(cles.length === 2 && cles[0] && cles[0] === cles[1], `même clé au nouvel essai : ${cles}`);
  const numero2 = Number((await texte(page, "#recu")).match(/Reçu n° (\d+)/)[1]);
  await page.keyboard.press("Escape");
  const v2 = (await apiJson("GET", "/api/ventes?limit=10", t)).ventes.find((v) => v.numero === numero2);
  ventes.push({ id: v2.id, total_affiche: dec(attendu(cents(p3.prix)).total) });

  // Today's sales: reprint the first one, return one of its items.
  await page.keyboard.press("F7");
  await page.locator(`#ventes tr[data-vente="${vente.id}"]`).waitFor();
  await accessible(page, "ventes du jour");
  await page.click(`button[aria-label="Retour d’articles de la vente ${numero}"]`);
  await page.fill("#retour-1", "1");
  await page.click("#btn-valider-retour");
  await page.locator("#ventes-message", { hasText: "Retour enregistré" }).waitFor();
  await page.click(`button[aria-label="Réimprimer le reçu ${numero}"]`);
  await page.locator("#dialogue-recu[open]").waitFor();
  assert((await texte(page, "#recu")).includes("Retour n°"), "le reçu réimprimé montre le retour");
  await page.keyboard.press("Escape");

  // The store's gérant sees every sale of the day at the register and cancels the card sale.
  const gerant = await nouvellePage(browser);
  await connexion(gerant, "gerant1", "/caisse.html");
  // Register 1 is shown open by caissier1 (a gérant may close it from the sessions page).
  await gerant.locator('#caisses tr[data-numero="1"][data-etat="ouverte"]', { hasText: "caissier1" }).waitFor();
  await gerant.keyboard.press("F7");
  await gerant.locator(`#ventes tr[data-vente="${v2.id}"]`).waitFor();
  gerant.once("dialog", (d) => d.accept());
  await gerant.click(`button[aria-label="Annuler la vente ${numero2}"]`);
  await gerant.locator(`#ventes tr[data-vente="${v2.id}"]`, { hasText: "Annulée" }).waitFor();
  await accessible(gerant, "ventes du jour (gérant)");
  await capture(gerant, "caisse-ventes-du-jour-gerant");

  // Closing the register: the drawer holds the float + the cash sale − the cash refund, minus 5 $.
  const venteEspeces = await apiJson("GET", `/api/ventes/${vente.id}`, t);
  const rembourse = venteEspeces.retours.reduce((n, r) => n + cents(r.rembourse), 0);
  const attenduCaisse = 20000 + cents(venteEspeces.paiement.a_payer) - rembourse;
  const compte = attenduCaisse - 500;
  await page.click("#btn-fermer-caisse");
  await page.locator("#dialogue-fermeture[open]").waitFor();
  await accessible(page, "fermeture de caisse");
  await page.fill("#montant-compte", "beaucoup");
  await page.click("#btn-confirmer-fermeture");
  await page.locator("#fermeture-message", { hasText: "Montant compté" }).waitFor();
  await page.fill("#montant-compte", dec(compte));
  await page.click("#btn-confirmer-fermeture");
  await page.waitForFunction((id) => document.body.dataset.rapportZ === String(id), sessionId);
  const champ = (nom) => texte(page, `#dialogue-fermeture [data-champ="${nom}"]`);
  assert(await champ("especes_attendues") === fr(attenduCaisse), `espèces attendues ${await champ("especes_attendues")} ≠ ${fr(attenduCaisse)}`);
  assert(await champ("montant_compte") === fr(compte), `montant compté ${await champ("montant_compte")}`);
  assert(await champ("ecart") === `−${fr(500)} (manque)`, `écart affiché : ${await champ("ecart")}`);
  // The Z-report shown is caisse's, and its figures are what this test sold.
  const z = await apiJson("GET", `/api/caisses/sessions/${sessionId}/rapport-z`, t);
  assert(z.especes.attendu === dec(attenduCaisse) && z.especes.compte === dec(compte) && z.especes.ecart === "-5.00",
    `espèces du rapport Z : ${JSON.stringify(z.especes)}`);
  assert(z.ventes.nombre === 2 && z.retours.nombre === 1 && z.annulations.nombre === 1, `rapport Z : ${JSON.stringify(z)}`);
  assert(await champ("ventes-total") === fr(cents(z.ventes.total)), "total des ventes du rapport Z affiché");
  assert(await champ("especes-ecart") === `−${fr(500)} (manque)`, "écart du rapport Z affiché");
  // The head of the store's sales journal at closing, when vente keeps one (printed as is).
  if (z.journal) assert((await champ("journal-empreinte")).includes(z.journal.empreinte), "empreinte du journal imprimée");
  await accessible(page, "rapport Z");
  await capture(page, "caisse-fermeture-rapport-z");
  await page.emulateMedia({ media: "print" });
  assert(!(await page.locator("main.caisse").isVisible()) && (await page.locator("#rapport-z").isVisible())
    && !(await page.locator("#comptage").isVisible()), "à l'impression, seul le rapport Z paraît");
  await capture(page, "caisse-rapport-z-impression", { fullPage: true });
  await page.emulateMedia({ media: "screen" });
  await page.click("#btn-terminer");
  // Back to the register list: register 1 is free again, the message gives the variance.
  await page.locator('#caisses tr[data-numero="1"][data-etat="libre"]').waitFor();
  await page.locator("#message", { hasText: "(manque)" }).waitFor();
  return {
    ventes, vendus_produit_1: 3, retour_produit_1: 1, produit_3_avant: stock3, vente_annulee: v2.id,
    session: sessionId, vente_especes: vente.id, attendu: dec(attenduCaisse), compte: dec(compte), journal: z.journal,
  };
});
