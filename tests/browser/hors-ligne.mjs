// The offline register in Chromium: register 1 opened online (its session
// kept on the device), the page reloads from the service worker with the
// network cut and sells in that session; three
// sales are rung up from the cached catalogue and queued with their keys;
// the network comes back with the second checkout's answer lost on the way
// (the sync is interrupted half-way), and the queue is sent again in order;
// a 4th sale asking more than the store holds is refused at sync and shown.
// Prints what it sold; the Rust test checks each sale exists once and the
// stock moved once.

import { accessible, apiJson, assert, capture, connexion, executer, jeton, nouvellePage, ouvrirCaisse } from "./lib.mjs";

const arrondi = (n, d) => Math.floor((2 * n + d) / (2 * d));
const cents = (s) => Math.round(Number(s) * 100);

executer(async (browser) => {
  const t = await jeton("caissier2");
  const produits = await Promise.all([11, 12, 13].map((id) => apiJson("GET", `/api/produits/${id}`, t)));
  const page = await nouvellePage(browser);
  await connexion(page, "caissier2", "/caisse.html");
  const sessionId = await ouvrirCaisse(page, 1, "100.00");
  await page.waitForFunction(() => Number(document.body.dataset.catalogue) >= 60);

  // The service worker holds the app shell: the register reloads without network.
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await page.context().setOffline(true);
  await page.reload();
  await page.locator("#bandeau-hors-ligne", { hasText: "Hors ligne" }).waitFor();
  // Offline, the session kept on the device is the one the sales belong to.
  assert(await page.evaluate(() => document.body.dataset.session) === String(sessionId), "session reprise hors ligne");
  const ventes = [];
  for (const [i, p] of produits.entries()) {
    const quantite = i + 1;
    for (let n = 0; n < quantite; n += 1) {
      await page.fill("#q", p.code_barres);
      await page.press("#q", "Enter");
      await page.waitForFunction(([id, q]) => {
        const tr = document.querySelector(`tr[data-produit="${id}"]`);
        return tr && Number(tr.dataset.quantite) === q && document.body.dataset.modifications === "0";
      }, [p.id, n + 1]);
    }
    const st = cents(p.prix) * quantite;
    const total = st + arrondi(st * 5, 100) + arrondi(st * 9975, 100000);
    const aPayer = arrondi(total, 5) * 5;
    await page.keyboard.press("F8");
    await page.fill("#montant-recu", (aPayer / 100).toFixed(2));
    await page.click("#btn-encaisser");
    await page.locator("#dialogue-recu[open]").waitFor();
    assert((await page.locator("#recu").innerText()).includes("provisoire"), "reçu provisoire hors ligne");
    await page.keyboard.press("Escape");
    await page.waitForFunction((n) => document.body.dataset.enAttente === String(n), i + 1);
    ventes.push({ produit_id: p.id, quantite });
  }
  // A 4th sale the store cannot cover (more than its stock): refused at sync.
  const p14 = await apiJson("GET", "/api/produits/14", t);
  const stock14 = (await apiJson("GET", "/api/stocks/magasins/2/produits/14", t)).quantite;
  await page.fill("#q", p14.code_barres);
  await page.press("#q", "Enter");
  await page.locator('tr[data-produit="14"]').waitFor();
  await page.fill("#quantite-14", String(stock14 + 1));
  await page.press("#quantite-14", "Enter");
  await page.waitForFunction((q) => Number(document.querySelector('tr[data-produit="14"]').dataset.quantite) === q, stock14 + 1);
  await page.keyboard.press("F9");
  await page.click("#btn-encaisser");
  await page.locator("#dialogue-recu[open]").waitFor();
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => document.body.dataset.enAttente === "4");
  const bandeau = await page.locator("#bandeau-hors-ligne").innerText();
  assert(bandeau.includes("Hors ligne — 4 vente(s) en attente"), `bandeau : ${bandeau}`);
  await accessible(page, "caisse hors ligne");
  await capture(page, "caisse-hors-ligne");

  // Back online, but the answer to the 2nd checkout is lost after vente recorded it.
  let checkouts = 0;
  await page.route("**/api/ventes", async (route) => {
    if (route.request().method() !== "POST") return route.continue();
    checkouts += 1;
    if (checkouts !== 2) return route.continue();
    await route.fetch(); // vente commits the sale...
    return route.abort("connectionreset"); // ...and the register never hears of it
  });
  await page.context().setOffline(false);
  // The sync stops at the lost answer: one sent, three waiting (bounded wait).
  await page.waitForFunction(() => document.body.dataset.enAttente === "3");
  await page.unroute("**/api/ventes");
  // vente did record the 2nd sale whose answer was lost: the queue still holds it.
  const enregistrees = (await apiJson("GET", "/api/ventes?limit=10", t)).ventes.filter((v) => v.caissier_login === "caissier2").length;
  assert(enregistrees === 2, `ventes enregistrées pendant l'interruption : ${enregistrees}`);
  // The next sync (every 3 s) resends the 2nd with the same cart and key, then the 3rd.
  await page.waitForFunction(() => document.body.dataset.enAttente === "0", null, { timeout: 60000 });
  await page.locator("#bandeau-hors-ligne").waitFor({ state: "hidden" });
  // The refused one is shown to the cashier with the line and what is available.
  const refus = await page.locator("#refus-hors-ligne").innerText();
  assert(refus.includes(p14.nom) && refus.includes(`${stock14} disponible`), `refus affiché : ${refus}`);
  await capture(page, "caisse-hors-ligne-refus");
  assert(await page.locator("#panier-vide").isVisible(), "le panier de la caisse est vide après la synchronisation");
  return { session: sessionId, ventes, envois_interceptes: checkouts, enregistrees_pendant_interruption: enregistrees, refuse: { produit_id: 14, stock: stock14 } };
});
