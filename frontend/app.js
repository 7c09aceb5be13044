// Caisse — cashier landing page: login, product search, stock of my store.
// Plain JS, no build step, talks to the API through the gateway (same origin).
"use strict";

(function () {
  const CLE_SESSION = "caisse.session";

  const $ = (id) => document.getElementById(id);
  const el = {
    message: $("message"),
    vueConnexion: $("vue-connexion"),
    vueCaisse: $("vue-caisse"),
    loginForm: $("login-form"),
    login: $("login"),
    motDePasse: $("mot_de_passe"),
    btnConnexion: $("btn-connexion"),
    employeInfo: $("employe-info"),
    deconnexion: $("deconnexion"),
    rechercheForm: $("recherche-form"),
    q: $("q"),
    btnRecherche: $("btn-recherche"),
    produits: $("produits"),
    produitsResume: $("produits-resume"),
    carteStock: $("carte-stock"),
    btnStock: $("btn-stock"),
    stocks: $("stocks"),
    stocksResume: $("stocks-resume"),
  };

  const ROLES = {
    caissier: "Caissier·ère",
    gerant: "Gérant·e",
    logistique: "Logistique",
    admin: "Administration",
  };

  // ---- Session (sessionStorage: closed tab = logged out) ------------------

  function lireSession() {
    try {
      const s = JSON.parse(sessionStorage.getItem(CLE_SESSION));
      if (!s || !s.jeton) return null;
      if (s.expire_a && Date.parse(s.expire_a) <= Date.now()) {
        sessionStorage.removeItem(CLE_SESSION);
        return null;
      }
      return s;
    } catch (_) {
      return null;
    }
  }

  function ecrireSession(s) {
    sessionStorage.setItem(CLE_SESSION, JSON.stringify(s));
  }

  function effacerSession() {
    sessionStorage.removeItem(CLE_SESSION);
  }

  // ---- Messages --------------------------------------------------------------

  function afficherMessage(texte, { erreur = false, reference = null } = {}) {
    el.message.replaceChildren(document.createTextNode(texte));
    if (reference) {
      const ref = document.createElement("span");
      ref.className = "reference";
      ref.textContent = "Référence de la requête : " + reference;
      el.message.appendChild(ref);
    }
    el.message.classList.toggle("erreur", erreur);
    el.message.hidden = false;
  }

  function effacerMessage() {
    el.message.hidden = true;
    el.message.replaceChildren();
  }

  // ---- API -----------------------------------------------------------------

  class ErreurApi extends Error {
    constructor(statut, titre, detail, reference) {
      super(detail || titre);
      this.statut = statut;
      this.titre = titre;
      this.detail = detail;
      this.reference = reference;
    }
  }

  // Calls the API; returns the parsed JSON body, or throws ErreurApi built from
  // the RFC 9457 problem details (title, detail) the services and gateway send.
  async function api(methode, chemin, corps) {
    const entetes = { Accept: "application/json, application/problem+json" };
    const session = lireSession();
    if (session) entetes.Authorization = "Bearer " + session.jeton;
    if (corps !== undefined) entetes["Content-Type"] = "application/json";

    let reponse;
    try {
      reponse = await fetch(chemin, {
        method: methode,
        headers: entetes,
        body: corps === undefined ? undefined : JSON.stringify(corps),
      });
    } catch (_) {
      throw new ErreurApi(0, "Réseau indisponible",
        "Impossible de joindre le serveur. Vérifiez la connexion puis réessayez.", null);
    }

    const reference = reponse.headers.get("X-Request-Id");
    const type = reponse.headers.get("Content-Type") || "";
    let donnees = null;
    if (reponse.status !== 204 && type.includes("json")) {
      try { donnees = await reponse.json(); } catch (_) { donnees = null; }
    }
    if (!reponse.ok) {
      const titre = (donnees && donnees.title) || "Erreur " + reponse.status;
      const detail = (donnees && donnees.detail) || reponse.statusText || "";
      throw new ErreurApi(reponse.status, titre, detail, reference);
    }
    return donnees;
  }

  function signalerErreur(err) {
    if (!(err instanceof ErreurApi)) {
      afficherMessage("Erreur inattendue : " + err, { erreur: true });
      return;
    }
    if (err.statut === 401 && lireSession()) {
      // Expired or revoked token: back to the login form.
      effacerSession();
      afficherVue();
    }
    const texte = err.detail && err.detail !== err.titre ? err.titre + " — " + err.detail : err.titre;
    afficherMessage(texte, { erreur: true, reference: err.reference });
  }

  async function occupe(bouton, action) {
    bouton.disabled = true;
    try {
      await action();
    } catch (err) {
      signalerErreur(err);
    } finally {
      bouton.disabled = false;
    }
  }

  // ---- Formatting ------------------------------------------------------------

  // Money arrives as a decimal string ("12.50"); format it without floats.
  function formaterPrix(prix) {
    if (typeof prix !== "string" || !/^-?\d+(\.\d+)?$/.test(prix)) return String(prix);
    const [entier, dec = ""] = prix.split(".");
    const groupes = entier.replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
    return groupes + "," + (dec + "00").slice(0, 2) + "\u00a0$";
  }

  function cellule(texte, classe) {
    const td = document.createElement("td");
    td.textContent = texte == null ? "—" : String(texte);
    if (classe) td.className = classe;
    return td;
  }

  // ---- Views ---------------------------------------------------------------

  function afficherVue() {
    const session = lireSession();
    el.vueConnexion.hidden = !!session;
    el.vueCaisse.hidden = !session;
    el.deconnexion.hidden = !session;
    el.employeInfo.hidden = !session;
    if (!session) {
      el.employeInfo.textContent = "";
      el.produits.hidden = true;
      el.produitsResume.hidden = true;
      el.stocks.hidden = true;
      el.stocksResume.hidden = true;
      el.login.focus();
      return;
    }
    const e = session.employe || {};
    const morceaux = [e.nom || e.login || "Employé", ROLES[e.role] || e.role];
    if (e.magasin_id != null) morceaux.push("magasin n° " + e.magasin_id);
    el.employeInfo.textContent = morceaux.filter(Boolean).join(" · ");
    el.carteStock.hidden = e.magasin_id == null;
    el.q.focus();
  }

  async function seConnecter(evenement) {
    evenement.preventDefault();
    effacerMessage();
    await occupe(el.btnConnexion, async () => {
      const rep = await api("POST", "/api/auth/login", {
        login: el.login.value.trim(),
        mot_de_passe: el.motDePasse.value,
      });
      if (!rep || !rep.jeton) throw new ErreurApi(0, "Réponse inattendue du serveur", "", null);
      ecrireSession({ jeton: rep.jeton, expire_a: rep.expire_a, employe: rep.employe });
      el.motDePasse.value = "";
      afficherVue();
      afficherMessage("Bonjour " + ((rep.employe && (rep.employe.nom || rep.employe.login)) || "") + " !");
    });
  }

  function seDeconnecter() {
    effacerSession();
    effacerMessage();
    afficherVue();
    afficherMessage("Vous êtes déconnecté·e.");
  }

  async function rechercher(evenement) {
    evenement.preventDefault();
    effacerMessage();
    await occupe(el.btnRecherche, async () => {
      const q = el.q.value.trim();
      const chemin = "/api/produits" + (q ? "?q=" + encodeURIComponent(q) : "");
      const rep = await api("GET", chemin);
      const produits = (rep && rep.produits) || [];
      const corps = el.produits.tBodies[0];
      corps.replaceChildren();
      for (const p of produits) {
        const tr = document.createElement("tr");
        tr.append(
          cellule(p.id),
          cellule(p.nom),
          cellule(formaterPrix(p.prix), "nombre"),
          cellule(p.code_barres),
          cellule(p.actif === false ? "Retiré de la vente" : "En vente",
            p.actif === false ? "etat-alerte" : "etat-ok"),
        );
        corps.appendChild(tr);
      }
      el.produits.hidden = produits.length === 0;
      let resume = produits.length === 0
        ? "Aucun produit ne correspond à cette recherche."
        : produits.length + (produits.length > 1 ? " produits trouvés." : " produit trouvé.");
      if (rep && rep.suivant != null) resume += " D’autres résultats existent : précisez la recherche.";
      el.produitsResume.textContent = resume;
      el.produitsResume.hidden = false;
    });
  }

  function etatStock(s) {
    if (s.quantite <= 0) return ["Rupture", "etat-rupture"];
    if (s.seuil_alerte != null && s.quantite <= s.seuil_alerte) return ["Sous le seuil d’alerte", "etat-alerte"];
    if (s.seuil_surstock != null && s.quantite > s.seuil_surstock) return ["Surstock", "etat-alerte"];
    return ["Normal", "etat-ok"];
  }

  async function afficherStock() {
    effacerMessage();
    const session = lireSession();
    const magasin = session && session.employe && session.employe.magasin_id;
    if (magasin == null) {
      afficherMessage("Votre compte n’est rattaché à aucun magasin.", { erreur: true });
      return;
    }
    await occupe(el.btnStock, async () => {
      const rep = await api("GET", "/api/stocks/magasins/" + encodeURIComponent(magasin));
      const stocks = (rep && rep.stocks) || [];
      const corps = el.stocks.tBodies[0];
      corps.replaceChildren();
      for (const s of stocks) {
        const [etat, classe] = etatStock(s);
        const tr = document.createElement("tr");
        tr.append(
          cellule(s.produit_id),
          cellule(s.quantite, "nombre"),
          cellule(s.seuil_alerte, "nombre"),
          cellule(s.seuil_surstock, "nombre"),
          cellule(etat, classe),
        );
        corps.appendChild(tr);
      }
      el.stocks.hidden = stocks.length === 0;
      el.stocksResume.textContent = stocks.length === 0
        ? "Aucun stock enregistré pour ce magasin."
        : stocks.length + " produit(s) en stock au magasin n° " + magasin + ".";
      el.stocksResume.hidden = false;
    });
  }

  el.loginForm.addEventListener("submit", seConnecter);
  el.deconnexion.addEventListener("click", seDeconnecter);
  el.rechercheForm.addEventListener("submit", rechercher);
  el.btnStock.addEventListener("click", afficherStock);
  afficherVue();
})();
