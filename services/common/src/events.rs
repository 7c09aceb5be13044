//! The event contract between the producers (vente, stock, produit) and their
//! consumers (reporting): the envelope every event travels in and one typed
//! payload per event type. Producers and consumers compile against these very
//! types (no JSON literals on either side); a change of a payload's shape
//! bumps its `VERSION`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// A service that publishes events, each on its own stream and feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Producer {
    Vente,
    Stock,
    Produit,
}

impl Producer {
    pub const ALL: [Producer; 3] = [Producer::Vente, Producer::Stock, Producer::Produit];

    pub fn as_str(self) -> &'static str {
        match self {
            Producer::Vente => "vente",
            Producer::Stock => "stock",
            Producer::Produit => "produit",
        }
    }

    /// The Redis stream (under the deployment's key prefix).
    pub fn stream(self) -> &'static str {
        match self {
            Producer::Vente => "evenements:ventes",
            Producer::Stock => "evenements:stocks",
            Producer::Produit => "evenements:produits",
        }
    }

    /// The path of the producer's feed, under its base URL.
    pub fn feed_path(self) -> &'static str {
        match self {
            Producer::Vente => "/api/ventes/evenements",
            Producer::Stock => "/api/stocks/evenements",
            Producer::Produit => "/api/produits/evenements",
        }
    }
}

impl std::str::FromStr for Producer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Producer::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| format!("producteur inconnu « {s} »"))
    }
}

crate::sql_text_enum!(Producer);

/// A typed event payload.
pub trait Event: Serialize + DeserializeOwned {
    /// The producer that owns this type.
    const PRODUCER: Producer;
    /// Name on the wire (`type` of the envelope).
    const TYPE: &'static str;
    /// Shape version; consumers refuse versions they do not know.
    const VERSION: u16;
    /// The aggregate the event is about (`vente:<uuid>`, `stock:3:12`, `produit:7`).
    fn key(&self) -> String;
}

/// What travels on a stream and in a feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Envelope<P = serde_json::Value> {
    pub producteur: Producer,
    /// Dense and strictly increasing per producer: a missing number is a lost event.
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u16,
    pub survenu_le: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub charge: P,
}

/// An event decoded into its payload type.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    SaleCompleted(SaleCompleted),
    SaleReturned(SaleReturned),
    SaleCancelled(SaleCancelled),
    StockChanged(StockChanged),
    StockThresholdsChanged(StockThresholdsChanged),
    ProductChanged(ProductChanged),
}

/// Why an envelope could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("type d'événement inconnu « {0} » (version {1})")]
    Unknown(String, u16),
    #[error("charge de {0} illisible : {1}")]
    Malformed(&'static str, serde_json::Error),
}

fn decode_as<E: Event>(charge: &serde_json::Value) -> Result<E, DecodeError> {
    E::deserialize(charge).map_err(|e| DecodeError::Malformed(E::TYPE, e))
}

impl Envelope<serde_json::Value> {
    /// The typed payload, if this consumer knows the type and version.
    pub fn decode(&self) -> Result<Payload, DecodeError> {
        let c = &self.charge;
        let v = self.version;
        Ok(match self.kind.as_str() {
            SaleCompleted::TYPE if v == SaleCompleted::VERSION => Payload::SaleCompleted(decode_as(c)?),
            SaleReturned::TYPE if v == SaleReturned::VERSION => Payload::SaleReturned(decode_as(c)?),
            SaleCancelled::TYPE if v == SaleCancelled::VERSION => Payload::SaleCancelled(decode_as(c)?),
            StockChanged::TYPE if v == StockChanged::VERSION => Payload::StockChanged(decode_as(c)?),
            StockThresholdsChanged::TYPE if v == StockThresholdsChanged::VERSION => {
                Payload::StockThresholdsChanged(decode_as(c)?)
            }
            ProductChanged::TYPE if v == ProductChanged::VERSION => Payload::ProductChanged(decode_as(c)?),
            other => return Err(DecodeError::Unknown(other.to_owned(), v)),
        })
    }
}

/// How a sale was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMode {
    Especes,
    Carte,
}

impl PaymentMode {
    pub const ALL: [PaymentMode; 2] = [PaymentMode::Especes, PaymentMode::Carte];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMode::Especes => "especes",
            PaymentMode::Carte => "carte",
        }
    }
}

impl std::str::FromStr for PaymentMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "especes" => Ok(PaymentMode::Especes),
            "carte" => Ok(PaymentMode::Carte),
            other => Err(format!("mode de paiement inconnu « {other} » (especes, carte)")),
        }
    }
}

crate::sql_text_enum!(PaymentMode);

/// A line of a completed sale, as sold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoldLine {
    pub produit_id: i64,
    pub quantite: i32,
    pub prix_unitaire: Decimal,
    pub total_ligne: Decimal,
}

/// A quantity of a product going back to stock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineQuantity {
    pub produit_id: i64,
    pub quantite: i32,
}

/// An amount with its taxes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Amount {
    pub sous_total: Decimal,
    pub tps: Decimal,
    pub tvq: Decimal,
    pub total: Decimal,
}

/// `evenements:ventes`: a sale completed (stock reserved, payment taken).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaleCompleted {
    pub vente_id: String,
    pub numero: i64,
    pub magasin_id: i64,
    pub caissier_id: i64,
    pub lignes: Vec<SoldLine>,
    pub sous_total: Decimal,
    pub tps: Decimal,
    pub tvq: Decimal,
    pub total: Decimal,
    pub mode_paiement: PaymentMode,
    /// What the customer paid (the total rounded to 0.05 in cash).
    pub a_payer: Decimal,
    /// The register and cash session of the sale (absent from sales made
    /// before registers existed, and from older payloads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caisse_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<i64>,
}

/// `evenements:ventes`: part of a sale brought back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaleReturned {
    pub vente_id: String,
    pub retour_id: i64,
    pub magasin_id: i64,
    pub lignes: Vec<LineQuantity>,
    pub montant: Amount,
    /// Cash handed back (rounded to 0.05 for cash sales, exact for card).
    pub rembourse: Decimal,
}

/// `evenements:ventes`: a sale cancelled; `lignes` and `montant` are what
/// this cancellation restocks and refunds (net of earlier returns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaleCancelled {
    pub vente_id: String,
    pub magasin_id: i64,
    pub par: String,
    pub lignes: Vec<LineQuantity>,
    pub montant: Amount,
    pub rembourse: Decimal,
}

/// `evenements:stocks`: one ledger movement, written in its transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockChanged {
    pub mouvement_id: i64,
    pub magasin_id: i64,
    pub produit_id: i64,
    pub delta: i32,
    /// The quantity after the movement.
    pub quantite: i32,
    /// The movement kind (`vente`, `liberation`, `retour`, `transfert_entree`, …).
    pub type_mouvement: String,
    pub reference: String,
    pub motif: String,
    pub auteur: String,
}

/// Thresholds a stock entry starts with (stock's column defaults).
pub const DEFAULT_SEUIL_ALERTE: i32 = 5;
pub const DEFAULT_SEUIL_SURSTOCK: i32 = 1000;

/// `evenements:stocks`: the alert thresholds of an entry changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockThresholdsChanged {
    pub magasin_id: i64,
    pub produit_id: i64,
    pub seuil_alerte: i32,
    pub seuil_surstock: i32,
    pub par: String,
}

/// What `ProductChanged` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductAction {
    Creation,
    Modification,
    Desactivation,
}

/// The fields of a product an admin can change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductFields {
    pub nom: String,
    pub description: String,
    #[schema(value_type = String, example = "12.50")]
    pub prix: Decimal,
    pub code_barres: Option<String>,
    pub actif: bool,
    pub version: i32,
}

/// `evenements:produits`: who changed which product, before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductChanged {
    pub produit_id: i64,
    pub action: ProductAction,
    pub par: String,
    /// `None` for a creation.
    pub avant: Option<ProductFields>,
    pub apres: ProductFields,
}

macro_rules! event {
    ($t:ty, $producer:expr, $name:literal, $version:literal, |$s:ident| $key:expr) => {
        impl Event for $t {
            const PRODUCER: Producer = $producer;
            const TYPE: &'static str = $name;
            const VERSION: u16 = $version;
            fn key(&$s) -> String {
                $key
            }
        }
    };
}

event!(SaleCompleted, Producer::Vente, "SaleCompleted", 1, |self| format!("vente:{}", self.vente_id));
event!(SaleReturned, Producer::Vente, "SaleReturned", 1, |self| format!("vente:{}", self.vente_id));
event!(SaleCancelled, Producer::Vente, "SaleCancelled", 1, |self| format!("vente:{}", self.vente_id));
event!(StockChanged, Producer::Stock, "StockChanged", 1, |self| format!(
    "stock:{}:{}",
    self.magasin_id, self.produit_id
));
event!(StockThresholdsChanged, Producer::Stock, "StockThresholdsChanged", 1, |self| format!(
    "stock:{}:{}",
    self.magasin_id, self.produit_id
));
event!(ProductChanged, Producer::Produit, "ProductChanged", 1, |self| format!("produit:{}", self.produit_id));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_decodes_into_its_payload_type() {
        let ev = StockThresholdsChanged {
            magasin_id: 1,
            produit_id: 2,
            seuil_alerte: 3,
            seuil_surstock: 40,
            par: "admin".into(),
        };
        let env = Envelope {
            producteur: Producer::Stock,
            id: 9,
            kind: StockThresholdsChanged::TYPE.into(),
            version: 1,
            survenu_le: Utc::now(),
            charge: serde_json::to_value(&ev).unwrap(),
        };
        let back: Envelope = serde_json::from_str(&serde_json::to_string(&env).unwrap()).unwrap();
        assert_eq!(back.decode().unwrap(), Payload::StockThresholdsChanged(ev));
    }

    #[test]
    fn an_unknown_version_is_refused_not_guessed() {
        let env = Envelope {
            producteur: Producer::Stock,
            id: 1,
            kind: "StockChanged".into(),
            version: 99,
            survenu_le: Utc::now(),
            charge: serde_json::Value::Null,
        };
        assert!(matches!(env.decode(), Err(DecodeError::Unknown(_, 99))));
    }

    #[test]
    fn money_travels_as_decimal_strings() {
        let a = Amount {
            sous_total: "10.00".parse().unwrap(),
            tps: "0.50".parse().unwrap(),
            tvq: "1.00".parse().unwrap(),
            total: "11.50".parse().unwrap(),
        };
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["total"], "11.50");
    }
}
