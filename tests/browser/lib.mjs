// Shared helpers of the browser tests: Debian's Chromium through
// playwright-core (no browser download), API calls for setup and checks,
// screenshots, and a small accessibility check (labels, contrast, focus).

import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const BASE = process.env.CAISSE_URL || "http://127.0.0.1:8080";
const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
// Screenshots go to target/captures; with CAPTURES_DOCS=1 also to docs/screenshots (committed).
const CAPTURES = [join(REPO, "target", "captures")];
if (process.env.CAPTURES_DOCS === "1") CAPTURES.push(join(REPO, "docs", "screenshots"));

export const FLAGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

export async function navigateur() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: FLAGS,
  });
}

/** A fresh context (own storage) and page at 1366×768, fr-CA. */
export async function nouvellePage(browser) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "fr-CA" });
  const page = await context.newPage();
  // Bounded waits on conditions; generous because CI shares 2 cores.
  page.setDefaultTimeout(30000);
  page.on("pageerror", (e) => console.error("erreur JS de la page :", e.message));
  return page;
}

export function assert(cond, message) {
  if (!cond) throw new Error("échec : " + message);
}

export async function capture(page, nom, options = {}) {
  for (const dir of CAPTURES) {
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, nom + ".png"), ...options });
  }
}

/** API call with a token, for setup and checks (not what the page does). */
export async function apiJson(methode, chemin, jeton, corps, entetes = {}) {
  const r = await fetch(BASE + chemin, {
    method: methode,
    headers: { "content-type": "application/json", ...(jeton ? { authorization: "Bearer " + jeton } : {}), ...entetes },
    body: corps === undefined ? undefined : JSON.stringify(corps),
  });
  const texte = await r.text();
  if (!r.ok) throw new Error(`${methode} ${chemin} -> ${r.status} ${texte}`);
  return texte ? JSON.parse(texte) : null;
}

export async function jeton(login) {
  return (await apiJson("POST", "/api/auth/login", null, { login, mot_de_passe: "demo1234" })).jeton;
}

/** Logs in through the login page and waits for the role's landing page. */
export async function connexion(page, login, attendu) {
  await page.goto(BASE + "/index.html");
  await page.fill("#login", login);
  await page.fill("#mot_de_passe", "demo1234");
  await page.click("#btn-connexion");
  await page.waitForURL("**" + attendu);
}

/**
 * At the register after login: the list of the store's registers; opens
 * register `numero` with the float `fond` typed in its row and waits for the
 * selling screen (search field focused). Returns the session id.
 */
export async function ouvrirCaisse(page, numero, fond = "200.00") {
  const ligne = page.locator(`#caisses tr[data-numero="${numero}"][data-etat="libre"]`);
  await ligne.waitFor();
  await ligne.locator("input").fill(fond);
  await ligne.locator("button").click();
  await page.waitForFunction(() => document.body.dataset.session && document.activeElement && document.activeElement.id === "q");
  return Number(await page.evaluate(() => document.body.dataset.session));
}

/** Opens a session on register `numero` of the token's store through the API; returns it. */
export async function sessionApi(jetonCaissier, numero, fond = "200.00") {
  const { caisses } = await apiJson("GET", "/api/caisses", jetonCaissier);
  const c = caisses.find((x) => x.numero === numero);
  if (!c) throw new Error(`pas de caisse n° ${numero} : ${JSON.stringify(caisses)}`);
  return apiJson("POST", `/api/caisses/${c.id}/sessions`, jetonCaissier, { fond_de_caisse: fond });
}

/**
 * Accessibility check run in the page: every visible form control has a
 * label, every button a name, text contrast >= 4.5:1 (3:1 for large text),
 * and the focused element shows an outline. Returns the violations.
 */
export async function verifierAccessibilite(page) {
  return page.evaluate(() => {
    const fautes = [];
    const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length) && getComputedStyle(e).visibility !== "hidden";
    const nomDe = (e) => {
      if (e.getAttribute("aria-label")) return e.getAttribute("aria-label");
      if (e.getAttribute("aria-labelledby")) return e.getAttribute("aria-labelledby").split(" ").map((id) => document.getElementById(id)?.textContent || "").join(" ");
      if (e.labels && e.labels.length) return [...e.labels].map((l) => l.textContent).join(" ");
      return e.tagName === "BUTTON" ? e.textContent : "";
    };
    for (const e of document.querySelectorAll("input, select, textarea, button")) {
      if (!visible(e) || e.type === "hidden") continue;
      if (!nomDe(e).trim()) fautes.push(`sans étiquette : <${e.tagName.toLowerCase()} id="${e.id}">`);
    }
    const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const fond = (e) => {
      for (let x = e; x; x = x.parentElement) {
        const c = rgb(getComputedStyle(x).backgroundColor);
        if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c;
      }
      return [255, 255, 255];
    };
    for (const e of document.querySelectorAll("body *")) {
      if (!visible(e) || e.closest("[hidden]")) continue;
      const texte = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      const champ = ["INPUT", "SELECT", "TEXTAREA"].includes(e.tagName) && e.value;
      if (!texte && !champ) continue;
      const st = getComputedStyle(e);
      if (e.disabled) continue; // WCAG exempts inactive controls
      const a = lum(rgb(st.color)), b = lum(fond(e));
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      const taille = parseFloat(st.fontSize);
      const grand = taille >= 24 || (taille >= 18.66 && Number(st.fontWeight) >= 700);
      if (ratio < (grand ? 3 : 4.5)) fautes.push(`contraste ${ratio.toFixed(2)} : « ${(e.textContent || e.value).trim().slice(0, 40)} » (${st.color} sur ${fond(e)})`);
    }
    const portee = document.querySelector("dialog[open]") || document;
    const precedent = document.activeElement;
    const premier = [...portee.querySelectorAll("input, button")].find(visible);
    if (premier) {
      premier.focus();
      const st = getComputedStyle(premier);
      if (st.outlineStyle === "none" && st.boxShadow === "none") fautes.push(`focus invisible sur #${premier.id}`);
      if (precedent && precedent.focus) precedent.focus();
    }
    return fautes;
  });
}

export async function accessible(page, nomPage) {
  const fautes = await verifierAccessibilite(page);
  assert(fautes.length === 0, `accessibilité de ${nomPage} :\n  ` + fautes.join("\n  "));
}

/** Runs `scenario` with a browser; prints the JSON summary last; exit code 1 on failure. */
export async function executer(scenario) {
  const browser = await navigateur();
  try {
    const resume = await scenario(browser);
    console.log(JSON.stringify(resume));
  } catch (e) {
    console.error(e.stack || String(e));
    process.exitCode = 1;
    // What each page showed when it failed: URL, message zone, screenshot.
    let n = 0;
    for (const context of browser.contexts()) {
      for (const page of context.pages()) {
        n += 1;
        const message = await page.locator("#message").innerText().catch(() => "");
        const etat = await page.locator("#etat-encaissement").innerText().catch(() => "");
        console.error(`page ${n} : ${page.url()} — message : « ${message} » — encaissement : « ${etat} »`);
        // Failures go to target/captures only, never to docs/.
        await page.screenshot({ path: join(CAPTURES[0], `echec-${n}.png`) }).catch(() => {});
      }
    }
  } finally {
    await browser.close();
  }
}
