// Money and dates for the fr-CA UI. Money arrives as decimal strings
// ("12.50"); arithmetic is done in integer cents, never in floats.

/** "12.50" -> 1250 (integer cents); null when not a decimal string. */
export function cents(montant) {
  const s = String(montant ?? "").trim().replace(",", ".");
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) return null;
  const c = Number(m[2]) * 100 + Number((m[3] || "").padEnd(2, "0"));
  return m[1] ? -c : c;
}

/** 1250 -> "12.50" (the API's format). */
export function decimal(c) {
  const neg = c < 0;
  const a = Math.abs(c);
  return (neg ? "-" : "") + Math.floor(a / 100) + "." + String(a % 100).padStart(2, "0");
}

const FORMAT = new Intl.NumberFormat("fr-CA", { style: "currency", currency: "CAD" });

/** "12.50" or 1250 -> "12,50 $" (fr-CA). */
export function argent(montant) {
  const c = typeof montant === "number" ? montant : cents(montant);
  if (c === null) return String(montant ?? "—");
  return FORMAT.format(c / 100);
}

// Round n/d half away from zero, n >= 0, d > 0 (integers).
function diviserArrondi(n, d) {
  return Math.floor((2 * n + d) / (2 * d));
}

/**
 * Taxes of a subtotal in cents, the same rule as vente (README "Selling"):
 * TPS 5 % and TVQ 9.975 % on the subtotal, each rounded to the cent half away
 * from zero. Used only for the running display; the sale's receipt carries
 * the server's numbers.
 */
export function taxes(sousTotal) {
  const tps = diviserArrondi(sousTotal * 5, 100);
  const tvq = diviserArrondi(sousTotal * 9975, 100000);
  return { sous_total: sousTotal, tps, tvq, total: sousTotal + tps + tvq };
}

/** Cash pays the total rounded to the nearest 0.05 $ (no cent coin). */
export function arrondiEspeces(total) {
  return diviserArrondi(total, 5) * 5;
}

const DATE_HEURE = new Intl.DateTimeFormat("fr-CA", { dateStyle: "medium", timeStyle: "short" });
const HEURE = new Intl.DateTimeFormat("fr-CA", { timeStyle: "short" });

export function dateHeure(iso) {
  return iso ? DATE_HEURE.format(new Date(iso)) : "—";
}

export function heure(iso) {
  return iso ? HEURE.format(new Date(iso)) : "—";
}

/** Today as a store day (AAAA-MM-JJ, America/Toronto), as vente's lists read `du`. */
export function aujourdhuiMagasin() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "America/Toronto" }).format(new Date());
}

/** A fresh idempotency key (UUID v4), also outside secure contexts. */
export function nouvelleCle() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Creates an element: el("td", {className: "nombre"}, "12,50 $"). */
export function el(tag, props = {}, ...enfants) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k.startsWith("data-") || k.startsWith("aria-") || k === "for" || k === "role") e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of enfants.flat()) {
    if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
  }
  return e;
}
