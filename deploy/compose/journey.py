#!/usr/bin/env python3
"""The sales journey through a running gateway, as a cashier's register does it:
log in, open a cash session on a register (or take the open one), open a
cart on it, scan a product (search by barcode), add it, check out with
an Idempotency-Key, read the receipt back; then the stock went down by what was
sold, and head office's report counts the sale once vente's event has reached
reporting. Used by deploy/compose-check against the compose gateway.

    journey.py http://127.0.0.1:18580
"""
import json
import sys
import time
import urllib.error
import urllib.request
import uuid

BASE = sys.argv[1].rstrip("/")


def call(method, path, token=None, body=None, headers=None, expect=(200,)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("accept", "application/json")
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=15) as res:
            status, raw = res.status, res.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    if status not in expect:
        sys.exit(f"ÉCHEC {method} {path} : {status} {raw[:400]!r}")
    return json.loads(raw) if raw else None


def login(who):
    return call("POST", "/api/auth/login", body={"login": who, "mot_de_passe": "demo1234"})["jeton"]


def step(msg):
    print(f"  {msg}", flush=True)


cashier = login("caissier1")
gerant = login("gerant1")
admin = login("admin")
step("connexion caissier1, gerant1, admin")

found = call("GET", "/api/produits?q=baguette", cashier)["produits"][0]
code = found["code_barres"]
scanned = call("GET", f"/api/produits?q={code}", cashier)["produits"]
assert len(scanned) == 1 and scanned[0]["id"] == found["id"], scanned
pid = found["id"]
step(f"lecture du code-barres {code} : produit {pid} ({found['nom']}, {found['prix']} $)")

before = call("GET", f"/api/stocks/magasins/1/produits/{pid}", gerant)["quantite"]
sales_before = call("GET", "/api/rapports/ventes?magasin_id=1", admin)

caisses = call("GET", "/api/caisses", cashier)["caisses"]
session = next((c["session_ouverte"]["id"] for c in caisses if c["session_ouverte"]), None)
if session is None:
    opened = call("POST", f"/api/caisses/{caisses[0]['id']}/sessions", cashier,
                  body={"fond_de_caisse": "200.00"}, expect=(201, 409))
    session = opened.get("id") or opened["session_id"]
step(f"session de caisse {session} ouverte")

cart = call("POST", "/api/paniers", cashier, body={"session_id": session}, expect=(201,))["id"]
lines = call("PUT", f"/api/paniers/{cart}/lignes/{pid}", cashier, body={"quantite": 2})
step(f"panier {cart} : {len(lines['lignes'])} ligne(s)")

key = str(uuid.uuid4())
pay = {"panier_id": cart, "paiement": {"mode": "especes", "montant_recu": "100.00"}}
recu = call("POST", "/api/ventes", cashier, body=pay, headers={"Idempotency-Key": key}, expect=(201,))
again = call("POST", "/api/ventes", cashier, body=pay, headers={"Idempotency-Key": key}, expect=(200, 201))
assert again["id"] == recu["id"], (again, recu)
receipt = call("GET", f"/api/ventes/{recu['id']}", cashier)
assert receipt["total"] == recu["total"], (receipt, recu)
step(f"vente {recu['id']} : total {recu['total']} $, monnaie {recu['paiement'].get('monnaie')} $ (même reçu au 2e envoi)")

after = call("GET", f"/api/stocks/magasins/1/produits/{pid}", gerant)["quantite"]
assert after == before - 2, (before, after)
step(f"stock du magasin 1, produit {pid} : {before} -> {after}")


def count(report):
    return report["total"]["nb_ventes"]


deadline = time.time() + 60
while True:
    now = call("GET", "/api/rapports/ventes?magasin_id=1", admin)
    if count(now) >= count(sales_before) + 1:
        break
    if time.time() > deadline:
        sys.exit(f"ÉCHEC : la vente n'a pas atteint reporting en 60 s ({now})")
    time.sleep(0.5)
step(f"rapport du siège : {count(sales_before)} -> {count(now)} vente(s) au magasin 1")
print("parcours de vente OK")
