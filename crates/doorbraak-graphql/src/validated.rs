//! Validation once per document, not once per request.
//!
//! async-graphql validates every request in full, and for a transition
//! that is about an eighth of the server's work (`scripts/instructions.sh`).
//! Almost all of it depends on the document alone: which fields and
//! arguments exist, fragments, variables declared and used, their
//! positions, depth, complexity. Only two parts depend on the request:
//! the values of its variables (async-graphql checks each argument with
//! the variables put in), and the complexity of a field whose schema
//! computes it from its arguments (a page size, say), which may come from
//! a variable.
//!
//! So every request has its variables checked here first
//! ([`variable_problems`]): each value given against the type its
//! variable declares (a variable that is not given is not checked, as
//! async-graphql does not either). A document that passed validation is
//! remembered, with its result, under its text and operation name
//! ([`crate::limits::Documents`]), if no field it selects has a computed
//! complexity and every variable's type is non-null at every level
//! ([`cacheable`]). The next request with the same text skips
//! async-graphql's validation: the validation of the document proved that
//! each variable's type fits every place it is used, and a place cannot
//! be stricter than a type that is non-null throughout, so the check of a
//! value against its variable's type is at least async-graphql's check
//! of the arguments it fills. (A nullable variable may fill a required
//! argument in async-graphql; only that argument's check refuses a null
//! there, which is why such a document is validated every time. The
//! tests compare both ways on the same variables.)

use std::collections::HashSet;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{ServerError, Value, Variables};

use crate::errors::ErrorCode;

/// The operation a request runs: the one named, or the only one.
fn operation<'d>(
    doc: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d OperationDefinition> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), None) => Some(&op.node),
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Multiple(ops), Some(n)) => ops.get(n).map(|op| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| &op.node)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// May the validation of `doc` (run as `operation_name`) be remembered:
/// is every variable's type non-null at every level, and does no field it
/// selects, in the operation or in a fragment, have a complexity the
/// schema computes from its arguments?
pub fn cacheable(
    registry: &Registry,
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
) -> bool {
    let Some(op) = operation(doc, operation_name) else {
        return false;
    };
    let root = match op.ty {
        async_graphql::parser::types::OperationType::Query => Some(registry.query_type.as_str()),
        async_graphql::parser::types::OperationType::Mutation => registry.mutation_type.as_deref(),
        async_graphql::parser::types::OperationType::Subscription => {
            registry.subscription_type.as_deref()
        }
    };
    let Some(root) = root else {
        return false;
    };
    // A nullable variable may stand where a value is required (async-
    // graphql allows it); then only the place's type says that null is
    // refused, and the check here looks at the variable's own type.
    let strict = op.variable_definitions.iter().all(|def| {
        let mut t = &def.node.var_type.node;
        loop {
            if t.nullable {
                return false;
            }
            match &t.base {
                async_graphql::parser::types::BaseType::Named(_) => return true,
                async_graphql::parser::types::BaseType::List(inner) => t = inner,
            }
        }
    });
    if !strict {
        return false;
    }
    let mut seen = HashSet::new();
    plain(registry, doc, root, &op.selection_set.node, &mut seen)
}

/// No field of `set`, on type `ty`, has a computed complexity (fragments
/// are looked into once each).
fn plain<'d>(
    registry: &Registry,
    doc: &'d ExecutableDocument,
    ty: &str,
    set: &'d SelectionSet,
    seen: &mut HashSet<&'d str>,
) -> bool {
    set.items.iter().all(|item| match &item.node {
        Selection::Field(f) => {
            let name = f.node.name.node.as_str();
            if name.starts_with("__") {
                // __typename, and introspection (its own depth bound).
                return true;
            }
            let fields = match registry.types.get(ty) {
                Some(MetaType::Object { fields, .. } | MetaType::Interface { fields, .. }) => {
                    fields
                }
                // A union has no fields of its own; anything else is not
                // what a validated document selects from.
                _ => return false,
            };
            let Some(field) = fields.get(name) else {
                return false;
            };
            if field.compute_complexity.is_some() {
                return false;
            }
            let inner = MetaTypeName::concrete_typename(&field.ty);
            plain(registry, doc, inner, &f.node.selection_set.node, seen)
        }
        Selection::InlineFragment(frag) => {
            let on = frag
                .node
                .type_condition
                .as_ref()
                .map_or(ty, |c| c.node.on.node.as_str());
            plain(registry, doc, on, &frag.node.selection_set.node, seen)
        }
        Selection::FragmentSpread(spread) => {
            let name = spread.node.fragment_name.node.as_str();
            if !seen.insert(name) {
                return true;
            }
            match doc.fragments.get(&spread.node.fragment_name.node) {
                Some(def) => plain(
                    registry,
                    doc,
                    def.node.type_condition.node.on.node.as_str(),
                    &def.node.selection_set.node,
                    seen,
                ),
                None => false,
            }
        }
    })
}

/// Each variable given, against the type its definition declares; the
/// first problem as a `VALIDATION` error.
pub fn variable_problems(
    registry: &Registry,
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Result<(), ServerError> {
    let Some(op) = operation(doc, operation_name) else {
        return Ok(());
    };
    for def in &op.variable_definitions {
        let name = &def.node.name.node;
        let Some(value) = variables.get(name) else {
            continue;
        };
        if let Some(why) = declared_problem(registry, &def.node.var_type.node, value) {
            return Err(crate::limits::coded(
                ErrorCode::Validation,
                format!("Invalid value for variable \"${name}\": {why}"),
                Some(def.pos),
            ));
        }
    }
    Ok(())
}

/// [`input_problem`] for a variable's type as the parser gives it, without
/// writing it out as text first (this runs on every request).
fn declared_problem(
    registry: &Registry,
    ty: &async_graphql::parser::types::Type,
    value: &Value,
) -> Option<String> {
    use async_graphql::parser::types::BaseType;
    if *value == Value::Null {
        return (!ty.nullable).then(|| format!("expected type \"{ty}\", not null"));
    }
    match &ty.base {
        BaseType::Named(name) => input_problem(registry, name.as_str(), value),
        BaseType::List(inner) => match value {
            Value::List(items) => items.iter().enumerate().find_map(|(i, item)| {
                declared_problem(registry, inner, item).map(|w| format!("item {i}: {w}"))
            }),
            // A single value stands for a list of one.
            _ => declared_problem(registry, inner, value),
        },
    }
}

/// Why `value` is not a value of the input type `ty` (`"[ID!]!"` and
/// the like), if it is not.
fn input_problem(registry: &Registry, ty: &str, value: &Value) -> Option<String> {
    match MetaTypeName::create(ty) {
        MetaTypeName::NonNull(inner) => match value {
            Value::Null => Some(format!("expected type \"{inner}\", not null")),
            _ => input_problem(registry, inner, value),
        },
        MetaTypeName::List(inner) => match value {
            Value::List(items) => items.iter().enumerate().find_map(|(i, item)| {
                input_problem(registry, inner, item).map(|w| format!("item {i}: {w}"))
            }),
            Value::Null => None,
            // A single value stands for a list of one.
            _ => input_problem(registry, inner, value),
        },
        MetaTypeName::Named(name) => {
            if *value == Value::Null {
                return None;
            }
            match registry.types.get(name) {
                Some(MetaType::Scalar {
                    is_valid: Some(valid),
                    ..
                }) => (!valid(value)).then(|| format!("expected type \"{name}\"")),
                Some(MetaType::Scalar { is_valid: None, .. }) => None,
                Some(MetaType::Enum { enum_values, .. }) => match value {
                    Value::Enum(v) if enum_values.contains_key(v.as_str()) => None,
                    Value::String(v) if enum_values.contains_key(v.as_str()) => None,
                    _ => Some(format!("expected a value of the enumeration \"{name}\"")),
                },
                Some(MetaType::InputObject {
                    input_fields,
                    oneof,
                    ..
                }) => match value {
                    Value::Object(given) => {
                        if *oneof
                            && (given.len() != 1 || given.values().next() == Some(&Value::Null))
                        {
                            return Some(format!("\"{name}\" takes exactly one field, not null"));
                        }
                        for field in input_fields.values() {
                            match given.get(field.name.as_str()) {
                                Some(v) => {
                                    if let Some(w) = input_problem(registry, &field.ty, v) {
                                        return Some(format!("field \"{}\": {w}", field.name));
                                    }
                                }
                                None if MetaTypeName::create(&field.ty).is_non_null()
                                    && field.default_value.is_none() =>
                                {
                                    return Some(format!(
                                        "field \"{}\" of type \"{}\" is required",
                                        field.name, field.ty
                                    ));
                                }
                                None => {}
                            }
                        }
                        given
                            .keys()
                            .find(|k| !input_fields.contains_key(k.as_str()))
                            .map(|k| format!("unknown field \"{k}\" of \"{name}\""))
                    }
                    // async-graphql lets a non-object through here too;
                    // the resolver's parse refuses it.
                    _ => None,
                },
                // A variable of a type the schema does not have is refused
                // before this (`limits::known_variable_types`); an output
                // type cannot be a variable's (validation proved it).
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::limits::{Guard, Limits};
    use async_graphql::*;

    #[derive(Enum, Copy, Clone, Eq, PartialEq)]
    enum Colour {
        Red,
        Blue,
    }

    #[derive(InputObject)]
    struct Thing {
        name: String,
        colour: Colour,
        tags: Vec<String>,
        count: Option<i32>,
    }

    #[derive(SimpleObject)]
    struct Item {
        n: i32,
    }

    struct Query;

    #[Object]
    impl Query {
        async fn echo(&self, n: i32, thing: Thing, colours: Vec<Colour>) -> i32 {
            n + thing.count.unwrap_or(0) + colours.len() as i32 + thing.tags.len() as i32
        }
        #[graphql(complexity = "first as usize * child_complexity")]
        async fn many(&self, first: i32) -> Vec<Item> {
            (0..first).map(|n| Item { n }).collect()
        }
    }

    fn schema() -> (Schema<Query, EmptyMutation, EmptySubscription>, Guard) {
        let guard = Guard::new(Limits::default());
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .extension(guard.clone())
            .limit_complexity(50)
            .finish();
        (schema, guard)
    }

    const ECHO: &str =
        "query($n: Int!, $t: Thing!, $c: [Colour!]!) { echo(n: $n, thing: $t, colours: $c) }";

    fn run(
        schema: &Schema<Query, EmptyMutation, EmptySubscription>,
        text: &str,
        vars: serde_json::Value,
    ) -> Response {
        let request = Request::new(text).variables(Variables::from_json(vars));
        futures_executor(schema.execute(request))
    }

    fn futures_executor<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// A remembered document refuses exactly the variables async-graphql's
    /// own validation refuses on a document it sees for the first time,
    /// as a request error (no data), and takes the rest.
    #[test]
    fn a_known_document_checks_its_variables_as_validation_did() {
        let (schema, guard) = schema();
        let good = serde_json::json!({
            "n": 1, "t": { "name": "a", "colour": "RED", "tags": ["x"] }, "c": ["BLUE"]
        });
        let first = run(&schema, ECHO, good.clone());
        assert!(first.errors.is_empty(), "{:?}", first.errors);
        assert!(
            guard.documents.validated(ECHO, None).is_some(),
            "remembered"
        );
        let cases = [
            good.clone(),
            serde_json::json!({ "n": "één", "t": { "name": "a", "colour": "RED", "tags": [] } }),
            serde_json::json!({ "n": 2147483648i64, "t": { "name": "a", "colour": "RED", "tags": [] } }),
            serde_json::json!({ "n": null, "t": { "name": "a", "colour": "RED", "tags": [] } }),
            serde_json::json!({ "n": 1, "t": { "name": "a", "colour": "GREEN", "tags": [] } }),
            serde_json::json!({ "n": 1, "t": { "name": "a", "colour": "RED", "tags": [], "extra": 1 } }),
            serde_json::json!({ "n": 1, "t": { "colour": "RED", "tags": [] } }),
            serde_json::json!({ "n": 1, "t": { "name": "a", "colour": "RED", "tags": [1] } }),
            serde_json::json!({ "n": 1, "t": { "name": "a", "colour": "RED", "tags": "één" } }),
            serde_json::json!({ "n": 1, "t": { "name": "a", "colour": "RED", "tags": [] }, "c": ["RED", null] }),
            serde_json::json!({ "n": 1, "t": { "name": "a", "colour": "RED", "tags": [] }, "c": "BLUE" }),
            serde_json::json!({ "n": 1, "t": { "name": "a", "colour": "RED", "tags": [] }, "c": null }),
            serde_json::json!({ "n": 1, "t": null }),
            serde_json::json!({ "n": 1.5, "t": { "name": "a", "colour": "RED", "tags": [] } }),
        ];
        for (i, vars) in cases.into_iter().enumerate() {
            // The same document under another text: seen for the first time.
            let fresh = run(&schema, &format!("{ECHO}\n# {i}"), vars.clone());
            let known = run(&schema, ECHO, vars.clone());
            assert_eq!(
                fresh.errors.is_empty(),
                known.errors.is_empty(),
                "case {i} {vars}: fresh {:?}, known {:?}",
                fresh.errors,
                known.errors
            );
            assert_eq!(fresh.data, known.data, "case {i} {vars}");
            // A request error (no path) where validation refused, a field
            // error where only the resolver's parse did (an Int out of
            // range): the same on both.
            let paths = |r: &Response| r.errors.iter().map(|e| e.path.clone()).collect::<Vec<_>>();
            assert_eq!(paths(&fresh), paths(&known), "case {i} {vars}");
        }
    }

    /// A document whose complexity the schema computes from an argument
    /// is validated on every request: its limit holds for each one.
    #[test]
    fn computed_complexity_is_never_remembered() {
        let (schema, guard) = schema();
        let q = "query($f: Int!) { many(first: $f) { n } }";
        for _ in 0..2 {
            let ok = run(&schema, q, serde_json::json!({ "f": 3 }));
            assert!(ok.errors.is_empty(), "{:?}", ok.errors);
            let big = run(&schema, q, serde_json::json!({ "f": 60 }));
            assert!(
                big.errors.iter().any(|e| e.message.contains("too complex")),
                "{:?}",
                big.errors
            );
        }
        assert!(guard.documents.validated(q, None).is_none());
        // A plain field in a fragment is fine, a computed one is not.
        let plain = "query { ...F } fragment F on Query { echo(n: 1, thing: { name: \"a\", colour: RED, tags: [] }, colours: []) }";
        assert!(run(&schema, plain, serde_json::json!({})).errors.is_empty());
        assert!(guard.documents.validated(plain, None).is_some());
        let hidden = "query { ...F } fragment F on Query { many(first: 1) { n } }";
        assert!(
            run(&schema, hidden, serde_json::json!({}))
                .errors
                .is_empty()
        );
        assert!(guard.documents.validated(hidden, None).is_none());
        // A nullable variable in a required place: validated every time,
        // and its null refused every time.
        let loose = "query($c: [Colour!]) { echo(n: 1, thing: { name: \"a\", colour: RED, tags: [] }, colours: $c) }";
        for _ in 0..2 {
            assert!(
                run(&schema, loose, serde_json::json!({ "c": ["RED"] }))
                    .errors
                    .is_empty()
            );
            let refused = run(&schema, loose, serde_json::json!({ "c": null }));
            assert!(!refused.errors.is_empty() && refused.errors[0].path.is_empty());
        }
        assert!(guard.documents.validated(loose, None).is_none());
    }
}
