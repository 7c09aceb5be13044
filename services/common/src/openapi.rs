//! The error answers every operation can give, written once into each
//! service's OpenAPI document: the shared extractors, the token check and
//! the platform layers produce them for every route, so the document (the
//! contract the fuzzing run checks) lists them with their problem+json body.

use utoipa::openapi::{
    ContentBuilder, ObjectBuilder, OpenApi, PathItem, Ref, RefOr, ResponseBuilder, Type,
    path::{Operation, ParameterIn},
    schema::{ArrayBuilder, Schema},
};

/// Name of the problem+json schema component.
pub const PROBLEM: &str = "Probleme";

fn problem_schema() -> Schema {
    let field = ObjectBuilder::new()
        .property("champ", ObjectBuilder::new().schema_type(Type::String))
        .property("message", ObjectBuilder::new().schema_type(Type::String))
        .required("champ")
        .required("message");
    Schema::Object(
        ObjectBuilder::new()
            .description(Some("RFC 9457 : un problème, en français, que la personne peut corriger."))
            .property("type", ObjectBuilder::new().schema_type(Type::String))
            .property("title", ObjectBuilder::new().schema_type(Type::String))
            .property("status", ObjectBuilder::new().schema_type(Type::Integer))
            .property("detail", ObjectBuilder::new().schema_type(Type::String))
            .property("errors", ArrayBuilder::new().items(field))
            .required("type")
            .required("title")
            .required("status")
            .required("detail")
            .build(),
    )
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch, &mut item.head, &mut item.options]
        .into_iter()
        .filter_map(Option::as_mut)
}

/// Adds, to every operation that does not document them already, the
/// problem answers it can give, and the `Probleme` schema.
pub fn document_problems(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.schemas.entry(PROBLEM.into()).or_insert_with(|| RefOr::T(problem_schema()));
    for item in doc.paths.paths.values_mut() {
        for op in operations(item) {
            let has_body = op.request_body.is_some();
            let params = op.parameters.as_deref().unwrap_or_default();
            // A resource named by id, in the path or as a filter (`magasin_id`
            // of a report): an unknown one is a 404.
            let names_a_resource =
                params.iter().any(|p| p.parameter_in == ParameterIn::Path || p.name.ends_with("_id"));
            let has_input = has_body || !params.is_empty();
            let mut add = vec![
                ("400", "requête mal formée (JSON illisible ou suivi d'autres données, paramètre illisible)"),
                ("401", "jeton manquant, expiré ou invalide"),
                ("403", "rôle ou magasin du jeton sans droit sur cette opération"),
                ("503", "service momentanément indisponible (en-tête Retry-After)"),
            ];
            if names_a_resource {
                add.push(("404", "ressource introuvable (ou d'un autre magasin)"));
            }
            if has_input {
                add.push(("422", "données invalides : `errors` nomme chaque champ"));
            }
            if has_body {
                add.push(("413", "corps trop volumineux"));
                add.push(("415", "type de contenu non pris en charge (application/json attendu)"));
            }
            for (status, description) in add {
                op.responses.responses.entry(status.into()).or_insert_with(|| {
                    RefOr::T(
                        ResponseBuilder::new()
                            .description(description)
                            .content(
                                "application/problem+json",
                                ContentBuilder::new().schema(Some(Ref::from_schema_name(PROBLEM))).build(),
                            )
                            .build(),
                    )
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::{
        HttpMethod, PathsBuilder,
        path::{OperationBuilder, ParameterBuilder},
        request_body::RequestBodyBuilder,
    };

    #[test]
    fn every_operation_gets_the_problems_it_can_give_and_keeps_its_own() {
        let get = OperationBuilder::new()
            .parameter(ParameterBuilder::new().name("id").parameter_in(ParameterIn::Path))
            .response("404", ResponseBuilder::new().description("la nôtre"));
        let post = OperationBuilder::new().request_body(Some(RequestBodyBuilder::new().build()));
        let report = OperationBuilder::new()
            .parameter(ParameterBuilder::new().name("magasin_id").parameter_in(ParameterIn::Query))
            .parameter(ParameterBuilder::new().name("du").parameter_in(ParameterIn::Query));
        let mut doc = OpenApi::new(
            utoipa::openapi::Info::new("t", "1"),
            PathsBuilder::new()
                .path("/x/{id}", PathItem::new(HttpMethod::Get, get))
                .path("/x", PathItem::new(HttpMethod::Post, post))
                .path("/r", PathItem::new(HttpMethod::Get, report)),
        );
        document_problems(&mut doc);
        let json = serde_json::to_value(&doc).unwrap();
        let get = &json["paths"]["/x/{id}"]["get"]["responses"];
        assert_eq!(get["404"]["description"], "la nôtre");
        assert!(get["422"].is_object() && get["401"].is_object() && get.get("413").is_none());
        let post = &json["paths"]["/x"]["post"]["responses"];
        assert!(post["413"].is_object() && post["415"].is_object() && post.get("404").is_none());
        assert_eq!(
            post["400"]["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Probleme"
        );
        let report = &json["paths"]["/r"]["get"]["responses"];
        assert!(report["404"].is_object() && report["422"].is_object() && report.get("413").is_none());
        assert!(json["components"]["schemas"]["Probleme"]["required"].as_array().unwrap().len() == 4);
    }
}
