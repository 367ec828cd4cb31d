//! What a single request may cost, checked before anything expensive runs.
//!
//! A GraphQL document is cheap to send and can be expensive to handle: a
//! deeply nested argument overflows a recursive parser's stack, and a
//! kilobyte of fragments that each spread the previous one twice expands
//! into billions of fields. So every request passes three gates, in order:
//!
//! 1. [`scan`] reads the raw text once, without recursion, and refuses a
//!    document nested deeper than [`Limits::max_nesting`] brackets or longer
//!    than [`Limits::max_tokens`] tokens. Only then is it parsed.
//! 2. [`analyse`] walks the parsed document, expanding each fragment once
//!    (memoised), and measures what execution and validation would see:
//!    fields after expansion, aliases, directives, root fields, depth of
//!    data fields and, separately, of introspection. Its recursion is
//!    bounded by the nesting limit above and by [`MAX_FRAGMENT_CHAIN`].
//! 3. The rate limit takes one token per operation: each root field of a
//!    mutation counts, so aliases cannot multiply what one request does.
//!
//! The [`Guard`] extension applies all three on every path that executes
//! GraphQL (HTTP and WebSocket alike) and stops a request that runs longer
//! than [`Limits::timeout`]. Every refusal carries `TOO_COMPLEX` (or
//! `RATE_LIMITED`) in `extensions.code`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest, NextRequest, NextValidation,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Request, Response, ServerError, ServerResult, ValidationResult, Value};

use crate::errors::ErrorCode;

/// How long a chain of fragments spreading fragments may be.
pub const MAX_FRAGMENT_CHAIN: u32 = 32;

/// Introspection fields that return lists: nesting them multiplies the
/// answer by the size of the schema each time.
const INTROSPECTION_LISTS: [&str; 8] = [
    "types",
    "fields",
    "args",
    "inputFields",
    "interfaces",
    "possibleTypes",
    "enumValues",
    "directives",
];

/// The limits of one request. The defaults admit every query the API's
/// clients need (the standard introspection query of graphql-js among
/// them) and refuse anything that could keep a core busy for long.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Brackets (`{ [ (`) open at once anywhere in the document.
    pub max_nesting: usize,
    /// Tokens in the document.
    pub max_tokens: usize,
    /// Fields after every fragment is expanded, over all operations.
    pub max_fields: u64,
    /// Aliased fields after expansion.
    pub max_aliases: u64,
    /// Directives after expansion.
    pub max_directives: u64,
    /// Root fields of one operation (each root field of a mutation is one
    /// operation for the rate limit).
    pub max_root_fields: u64,
    /// Depth of data fields (a root field is depth 1).
    pub max_depth: u32,
    /// Depth inside `__schema` and `__type`.
    pub max_introspection_depth: u32,
    /// Introspection list fields nested in one another.
    pub max_introspection_lists: u32,
    /// Nesting of a variable's value (lists and objects).
    pub max_variable_depth: usize,
    /// Longest a request may run; then it is stopped and refused.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_nesting: 64,
            max_tokens: 10_000,
            max_fields: 2_000,
            max_aliases: 30,
            max_directives: 50,
            max_root_fields: 20,
            max_depth: 12,
            max_introspection_depth: 24,
            max_introspection_lists: 3,
            max_variable_depth: 16,
            timeout: Duration::from_secs(10),
        }
    }
}

fn too_complex(message: impl Into<String>) -> ServerError {
    coded(ErrorCode::TooComplex, message, None)
}

/// A request error with `code`, at `pos` in the document if given.
pub(crate) fn coded(
    code: ErrorCode,
    message: impl Into<String>,
    pos: Option<async_graphql::Pos>,
) -> ServerError {
    let mut e = ServerError::new(message, pos);
    e.extensions
        .get_or_insert_with(Default::default)
        .set("code", code.as_str());
    e
}

/// Gate 1: one pass over the raw text, with no recursion. Refuses a
/// document whose brackets nest deeper than `max_nesting` or that has more
/// than `max_tokens` tokens. Strings, block strings and comments are
/// skipped, so brackets inside them do not count.
pub fn scan(src: &str, limits: &Limits) -> Result<(), ServerError> {
    let b = src.as_bytes();
    let n = b.len();
    let (mut i, mut depth, mut tokens) = (0usize, 0usize, 0usize);
    while i < n {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < n && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' if b[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < n {
                    if b[i..].starts_with(b"\\\"\"\"") {
                        i += 4;
                    } else if b[i..].starts_with(b"\"\"\"") {
                        i += 3;
                        break;
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' => {
                i += 1;
                while i < n {
                    match b[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        b'\n' | b'\r' => break,
                        _ => i += 1,
                    }
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > limits.max_nesting {
                    return Err(too_complex(format!(
                        "the document is nested more than {} levels deep",
                        limits.max_nesting
                    )));
                }
                i += 1;
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.' => {
                while i < n
                    && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'.' | b'-' | b'+'))
                {
                    i += 1;
                }
            }
            _ => i += 1,
        }
        tokens += 1;
        if tokens > limits.max_tokens {
            return Err(too_complex(format!(
                "the document has more than {} tokens",
                limits.max_tokens
            )));
        }
    }
    Ok(())
}

/// How deep a variable's value nests; stops counting past `max`.
fn value_depth(v: &Value, max: usize) -> usize {
    fn walk(v: &Value, d: usize, max: usize) -> usize {
        if d > max {
            return d;
        }
        match v {
            Value::List(items) => items
                .iter()
                .map(|x| walk(x, d + 1, max))
                .max()
                .unwrap_or(d + 1),
            Value::Object(fields) => fields
                .values()
                .map(|x| walk(x, d + 1, max))
                .max()
                .unwrap_or(d + 1),
            _ => d,
        }
    }
    walk(v, 0, max)
}

/// What a document costs once its fragments are expanded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Cost {
    fields: u64,
    aliases: u64,
    directives: u64,
    /// Fields at the top of this selection set (through spreads).
    top: u64,
    depth: u32,
    intro_depth: u32,
    intro_lists: u32,
}

impl Cost {
    /// The cost of two selections side by side.
    fn beside(&mut self, o: Cost) {
        self.fields = self.fields.saturating_add(o.fields);
        self.aliases = self.aliases.saturating_add(o.aliases);
        self.directives = self.directives.saturating_add(o.directives);
        self.top = self.top.saturating_add(o.top);
        self.depth = self.depth.max(o.depth);
        self.intro_depth = self.intro_depth.max(o.intro_depth);
        self.intro_lists = self.intro_lists.max(o.intro_lists);
    }
}

struct Walker<'d> {
    doc: &'d ExecutableDocument,
    memo: HashMap<(&'d str, bool), Cost>,
    visiting: HashSet<(&'d str, bool)>,
}

impl<'d> Walker<'d> {
    fn set(&mut self, set: &'d SelectionSet, intro: bool, chain: u32) -> Result<Cost, ServerError> {
        let mut c = Cost::default();
        for sel in &set.items {
            match &sel.node {
                Selection::Field(f) => {
                    let f = &f.node;
                    let name = f.name.node.as_str();
                    let inner = intro || name == "__schema" || name == "__type";
                    let child = self.set(&f.selection_set.node, inner, chain)?;
                    let mut own = Cost {
                        fields: child.fields.saturating_add(1),
                        aliases: child.aliases.saturating_add(u64::from(f.alias.is_some())),
                        directives: child.directives.saturating_add(f.directives.len() as u64),
                        top: 1,
                        ..Cost::default()
                    };
                    if inner {
                        let list = u32::from(intro && INTROSPECTION_LISTS.contains(&name));
                        own.intro_lists = child.intro_lists + list;
                        own.intro_depth = child.intro_depth + 1;
                        own.depth = if intro { 0 } else { 1 };
                    } else {
                        own.depth = child.depth + 1;
                    }
                    c.beside(own);
                }
                Selection::FragmentSpread(s) => {
                    let s = &s.node;
                    let mut fc = self.fragment(s.fragment_name.node.as_str(), intro, chain + 1)?;
                    fc.directives = fc.directives.saturating_add(s.directives.len() as u64);
                    c.beside(fc);
                }
                Selection::InlineFragment(i) => {
                    let i = &i.node;
                    let mut ic = self.set(&i.selection_set.node, intro, chain)?;
                    ic.directives = ic.directives.saturating_add(i.directives.len() as u64);
                    c.beside(ic);
                }
            }
        }
        Ok(c)
    }

    fn fragment(&mut self, name: &'d str, intro: bool, chain: u32) -> Result<Cost, ServerError> {
        if let Some(c) = self.memo.get(&(name, intro)) {
            return Ok(*c);
        }
        if chain > MAX_FRAGMENT_CHAIN {
            return Err(too_complex(format!(
                "fragments spread fragments more than {MAX_FRAGMENT_CHAIN} deep"
            )));
        }
        let Some(def) = self.doc.fragments.get(name) else {
            // Unknown fragments are for validation to report.
            return Ok(Cost::default());
        };
        if !self.visiting.insert((name, intro)) {
            let mut e = ServerError::new(format!("fragment `{name}` spreads itself"), None);
            e.extensions
                .get_or_insert_with(Default::default)
                .set("code", ErrorCode::Validation.as_str());
            return Err(e);
        }
        let c = self.set(&def.node.selection_set.node, intro, chain)?;
        self.visiting.remove(&(name, intro));
        self.memo.insert((name, intro), c);
        Ok(c)
    }

    /// Names of the root fields of a selection set, through spreads.
    fn root_names(
        &self,
        set: &'d SelectionSet,
        out: &mut Vec<String>,
        seen: &mut HashSet<&'d str>,
    ) {
        for sel in &set.items {
            match &sel.node {
                Selection::Field(f) => out.push(f.node.name.node.to_string()),
                Selection::FragmentSpread(s) => {
                    let name = s.node.fragment_name.node.as_str();
                    if seen.insert(name)
                        && let Some(def) = self.doc.fragments.get(name)
                    {
                        self.root_names(&def.node.selection_set.node, out, seen);
                    }
                }
                Selection::InlineFragment(i) => {
                    self.root_names(&i.node.selection_set.node, out, seen);
                }
            }
        }
    }
}

/// What the executed operation is: its type and root fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    pub operation: OperationType,
    /// Root field names (not aliases), in document order, repeated as
    /// often as they are selected.
    pub root_fields: Vec<String>,
}

impl Shape {
    /// Operations this request counts as for the rate limit: each root
    /// field of a mutation, one for anything else.
    pub fn operations(&self) -> u32 {
        match self.operation {
            OperationType::Mutation => self.root_fields.len().clamp(1, u32::MAX as usize) as u32,
            OperationType::Query | OperationType::Subscription => 1,
        }
    }
}

/// Gate 2: measures the parsed document against the limits. Returns the
/// shape of the operation that will run (`None` when the document does
/// not say which one; validation then refuses it).
pub fn analyse(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    limits: &Limits,
) -> Result<Option<Shape>, ServerError> {
    let mut w = Walker {
        doc,
        memo: HashMap::new(),
        visiting: HashSet::new(),
    };
    let mut total = Cost::default();
    let mut widest = 0u64;
    for (_, op) in doc.operations.iter() {
        let c = w.set(&op.node.selection_set.node, false, 0)?;
        widest = widest.max(c.top);
        total.beside(c);
    }
    // The message is written only for the check that fails (six `format!`
    // on every request were most of this function's work).
    let checks: [(bool, &dyn Fn() -> String); 7] = [
        (total.fields > limits.max_fields, &|| {
            format!(
                "the document expands to more than {} fields",
                limits.max_fields
            )
        }),
        (widest > limits.max_root_fields, &|| {
            format!(
                "an operation may select at most {} root fields",
                limits.max_root_fields
            )
        }),
        (total.aliases > limits.max_aliases, &|| {
            format!("the document uses more than {} aliases", limits.max_aliases)
        }),
        (total.directives > limits.max_directives, &|| {
            format!(
                "the document uses more than {} directives",
                limits.max_directives
            )
        }),
        (total.depth > limits.max_depth, &|| {
            format!(
                "the query is nested more than {} fields deep",
                limits.max_depth
            )
        }),
        (total.intro_depth > limits.max_introspection_depth, &|| {
            format!(
                "introspection is nested more than {} fields deep",
                limits.max_introspection_depth
            )
        }),
        (total.intro_lists > limits.max_introspection_lists, &|| {
            format!(
                "introspection nests more than {} lists",
                limits.max_introspection_lists
            )
        }),
    ];
    if let Some((_, message)) = checks.into_iter().find(|(over, _)| *over) {
        return Err(too_complex(message()));
    }
    let op = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        (DocumentOperations::Multiple(_), None) => None,
    };
    Ok(op.map(|op| {
        let mut root_fields = Vec::new();
        w.root_names(
            &op.node.selection_set.node,
            &mut root_fields,
            &mut HashSet::new(),
        );
        Shape {
            operation: op.node.ty,
            root_fields,
        }
    }))
}

/// Refuses a variable declared with a type the schema does not have.
/// async-graphql's validation assumes the type exists when it checks the
/// variable's default value, and panics if it does not (found by the
/// fuzzing test), so this check comes first.
pub fn known_variable_types(
    doc: &ExecutableDocument,
    known: impl Fn(&str) -> bool,
) -> Result<(), ServerError> {
    use async_graphql::parser::types::BaseType;
    for (_, op) in doc.operations.iter() {
        for var in &op.node.variable_definitions {
            let mut t = &var.node.var_type.node;
            // Bounded by the nesting limit: a type nests only with brackets.
            let name = loop {
                match &t.base {
                    BaseType::Named(n) => break n,
                    BaseType::List(inner) => t = inner,
                }
            };
            if !known(name.as_str()) {
                return Err(coded(
                    ErrorCode::Validation,
                    format!(
                        "unknown type `{name}` of variable `${}`",
                        var.node.name.node
                    ),
                    Some(var.pos),
                ));
            }
        }
    }
    Ok(())
}

/// Who a request counts against for the rate limit: a user, or the client
/// address of an anonymous request. Put it in the request's (or the
/// WebSocket connection's) data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateKey(pub String);

/// The rate limit, as the server implements it.
pub trait Admission: Send + Sync + 'static {
    /// Takes `operations` tokens for `key`; `Err(wait)` when there are not
    /// enough, with how long to wait before trying again.
    fn admit(&self, key: &RateKey, operations: u32) -> Result<(), Duration>;
}

/// What the server wants to know of every request, for its metrics.
pub trait Observer: Send + Sync + 'static {
    /// A request ended: its root fields (empty when it never parsed), the
    /// code of its first error (`None` when it had none) and how long it
    /// took.
    fn request_done(&self, root_fields: &[String], error: Option<&str>, elapsed: Duration);
}

/// Documents that passed the gates, by their text. Clients send the same
/// few documents again and again, and parsing one costs about a twentieth
/// of a transition's work in the server; a copy of the parsed document
/// costs far less. [`analyse`] and the rate limit still run on every
/// request. With them, the results of async-graphql's validation, by text
/// and operation name, for the documents whose validation depends on the
/// variables' values alone ([`crate::validated`]).
///
/// Bounded: at most [`Documents::CAPACITY`] documents of at most
/// [`Documents::LONGEST`] bytes each; when it is full it starts again
/// empty, so a client that sends ever new documents costs no more than
/// parsing them would.
#[derive(Default)]
pub struct Documents {
    map: Mutex<HashMap<String, ExecutableDocument>>,
    /// By text, then by operation name (a document has few).
    validated: Mutex<HashMap<String, Vec<ByOperation>>>,
}

/// A validation result and the operation name it was run as.
type ByOperation = (Option<String>, ValidationResult);

impl Documents {
    pub const CAPACITY: usize = 256;
    pub const LONGEST: usize = 8 * 1024;

    /// A copy of the parsed document of `text`, if it is kept.
    pub fn get(&self, text: &str) -> Option<ExecutableDocument> {
        self.map.lock().ok()?.get(text).cloned()
    }

    /// Keeps `doc` as the parsed document of `text` (unless it is long).
    pub fn keep(&self, text: String, doc: &ExecutableDocument) {
        if text.len() > Self::LONGEST {
            return;
        }
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= Self::CAPACITY {
                map.clear();
            }
            map.insert(text, doc.clone());
        }
    }

    /// The validation result of `text` run as `operation`, if kept.
    pub fn validated(&self, text: &str, operation: Option<&str>) -> Option<ValidationResult> {
        let map = self.validated.lock().ok()?;
        map.get(text)?
            .iter()
            .find(|(name, _)| name.as_deref() == operation)
            .map(|(_, result)| *result)
    }

    /// Keeps the validation result of `text` run as `operation` (unless
    /// the text is long), bounded like the documents.
    pub fn keep_validated(
        &self,
        text: String,
        operation: Option<String>,
        result: ValidationResult,
    ) {
        if text.len() > Self::LONGEST {
            return;
        }
        if let Ok(mut map) = self.validated.lock() {
            if map.len() >= Self::CAPACITY {
                map.clear();
            }
            let kept = map.entry(text).or_default();
            if !kept.iter().any(|(name, _)| *name == operation) {
                kept.push((operation, result));
            }
        }
    }

    /// How many documents are kept.
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The extension that applies the limits, the rate limit and the timeout.
#[derive(Clone)]
pub struct Guard {
    pub limits: Arc<Limits>,
    pub admission: Option<Arc<dyn Admission>>,
    pub observer: Option<Arc<dyn Observer>>,
    /// Parsed documents that passed the gates before.
    pub documents: Arc<Documents>,
}

impl Guard {
    pub fn new(limits: Limits) -> Guard {
        Guard {
            limits: Arc::new(limits),
            admission: None,
            observer: None,
            documents: Arc::default(),
        }
    }
}

impl ExtensionFactory for Guard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GuardRun {
            guard: self.clone(),
            shape: Mutex::new(None),
            validation: Mutex::new(Validation::Run),
        })
    }
}

/// One request's run of the guard.
struct GuardRun {
    guard: Guard,
    shape: Mutex<Option<Shape>>,
    validation: Mutex<Validation>,
}

/// What the request's validation is to be ([`crate::validated`]).
enum Validation {
    /// async-graphql's, as always.
    Run,
    /// async-graphql's, and its result is kept for the next request with
    /// this text and operation name.
    RunAndKeep(String, Option<String>),
    /// Done before: the document's result, the variables checked.
    Known(ValidationResult),
}

fn first_code(r: &Response) -> Option<String> {
    r.errors.first().map(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_else(|| ErrorCode::Validation.as_str().to_owned())
    })
}

#[async_trait::async_trait]
impl Extension for GuardRun {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let started = Instant::now();
        let limit = self.guard.limits.timeout;
        let response = match tokio::time::timeout(limit, next.run(ctx)).await {
            Ok(r) => r,
            Err(_) => Response::from_errors(vec![too_complex(format!(
                "the request took longer than {} s and was stopped",
                limit.as_secs_f64()
            ))]),
        };
        if let Some(o) = &self.guard.observer {
            let fields = self
                .shape
                .lock()
                .map(|s| {
                    s.as_ref()
                        .map(|s| s.root_fields.clone())
                        .unwrap_or_default()
                })
                .unwrap_or_default();
            o.request_done(&fields, first_code(&response).as_deref(), started.elapsed());
        }
        response
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let limits = &self.guard.limits;
        let kept = self.guard.documents.get(&request.query);
        // The text to keep the document under, once it passes (a text
        // too long to keep is not copied).
        let to_keep = (kept.is_none() && request.query.len() <= Documents::LONGEST)
            .then(|| request.query.clone());
        match kept {
            Some(doc) => request.set_parsed_query(doc),
            None => scan(&request.query, limits)?,
        }
        for (_, v) in request.variables.iter() {
            if value_depth(v, limits.max_variable_depth) > limits.max_variable_depth {
                return Err(too_complex(format!(
                    "a variable's value is nested more than {} levels deep",
                    limits.max_variable_depth
                )));
            }
        }
        let operation_name = request.operation_name.clone();
        let doc = request.parsed_query()?;
        known_variable_types(doc, |name| ctx.schema_env.registry.types.contains_key(name))?;
        let shape = analyse(doc, operation_name.as_deref(), limits)?;
        if let Some(text) = to_keep {
            self.guard.documents.keep(text, doc);
        }
        if let (Some(admission), Some(shape)) = (&self.guard.admission, &shape) {
            let key = request
                .data
                .get(&std::any::TypeId::of::<RateKey>())
                .and_then(|k| k.downcast_ref::<RateKey>())
                .or_else(|| ctx.data_opt::<RateKey>());
            if let Some(key) = key
                && let Err(wait) = admission.admit(key, shape.operations())
            {
                let mut e =
                    ServerError::new("too many operations; slow down and try again shortly", None);
                let x = e.extensions.get_or_insert_with(Default::default);
                x.set("code", ErrorCode::RateLimited.as_str());
                x.set("retryAfter", wait.as_secs().max(1));
                return Err(e);
            }
        }
        if let Ok(mut s) = self.shape.lock() {
            *s = shape;
        }
        let registry = &ctx.schema_env.registry;
        let opname = operation_name.as_deref();
        let variables = std::mem::take(&mut request.variables);
        let checked = crate::validated::variable_problems(
            registry,
            request.parsed_query()?,
            opname,
            &variables,
        );
        request.variables = variables;
        checked?;
        let validation = match self.guard.documents.validated(&request.query, opname) {
            Some(known) => Validation::Known(known),
            None => {
                let keep = request.query.len() <= Documents::LONGEST
                    && crate::validated::cacheable(registry, request.parsed_query()?, opname);
                match keep {
                    true => Validation::RunAndKeep(request.query.clone(), operation_name.clone()),
                    false => Validation::Run,
                }
            }
        };
        if let Ok(mut v) = self.validation.lock() {
            *v = validation;
        }
        next.run(ctx, request).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let todo = self
            .validation
            .lock()
            .map(|mut v| std::mem::replace(&mut *v, Validation::Run))
            .unwrap_or(Validation::Run);
        match todo {
            Validation::Known(result) => Ok(result),
            Validation::Run => next.run(ctx).await,
            Validation::RunAndKeep(text, operation) => {
                let result = next.run(ctx).await?;
                self.guard.documents.keep_validated(text, operation, result);
                Ok(result)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(q: &str) -> Result<Option<Shape>, String> {
        let l = Limits::default();
        scan(q, &l).map_err(|e| e.message.clone())?;
        let doc = async_graphql::parser::parse_query(q).map_err(|e| e.to_string())?;
        analyse(&doc, None, &l).map_err(|e| e.message)
    }

    #[test]
    fn deep_brackets_are_refused_before_parsing() {
        for (open, close) in [("[", "]"), ("{a:", "}"), ("(", ")")] {
            let q = format!(
                "{{ __typename(x: {}1{}) }}",
                open.repeat(5000),
                close.repeat(5000)
            );
            let e = check(&q).unwrap_err();
            assert!(e.contains("nested more than 64"), "{e}");
        }
        // Brackets inside strings and comments do not count.
        let q = format!("{{ __typename # {}\n }}", "[".repeat(5000));
        assert!(check(&q).is_ok());
        let q = format!("{{ __typename(x: \"{}\") }}", "{".repeat(5000));
        assert!(scan(&q, &Limits::default()).is_ok());
        let q = format!("{{ __typename(x: \"\"\"{}\"\"\") }}", "(".repeat(5000));
        assert!(scan(&q, &Limits::default()).is_ok());
    }

    #[test]
    fn fragments_that_double_are_measured_expanded() {
        let mut q = String::from("query { ...F25 }\nfragment F0 on Query { __typename }\n");
        for i in 1..=25 {
            q.push_str(&format!(
                "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
                i - 1,
                i - 1
            ));
        }
        let started = Instant::now();
        let e = check(&q).unwrap_err();
        assert!(e.contains("expands to more than"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn cycles_and_long_chains_end() {
        let e = check("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
            .unwrap_err();
        assert!(e.contains("spreads itself"), "{e}");
        let mut q = String::from("{ ...F0 }\n");
        for i in 0..100 {
            q.push_str(&format!("fragment F{i} on Query {{ ...F{} }}\n", i + 1));
        }
        assert!(check(&q).unwrap_err().contains("more than 32 deep"));
    }

    #[test]
    fn aliases_root_fields_and_depth() {
        let many: String = (0..31).map(|i| format!("a{i}: id ")).collect();
        assert!(
            check(&format!("{{ me {{ {many} }} }}"))
                .unwrap_err()
                .contains("aliases")
        );
        let roots = "me { id } ".repeat(21);
        assert!(
            check(&format!("{{ {roots} }}"))
                .unwrap_err()
                .contains("root fields")
        );
        let deep = format!("{{ {}id{} }}", "a { ".repeat(12), " }".repeat(12));
        assert!(check(&deep).unwrap_err().contains("fields deep"));
        let ok = format!("{{ {}id{} }}", "a { ".repeat(11), " }".repeat(11));
        assert!(check(&ok).is_ok());
    }

    #[test]
    fn mutations_count_each_root_field() {
        let s = check(
            "mutation { a: me { id } b: me { id } ...M } fragment M on Mutation { c: me { id } }",
        )
        .unwrap()
        .unwrap();
        assert_eq!(s.operations(), 3);
        assert_eq!(s.root_fields, ["me", "me", "me"]);
        let s = check("{ a: me { id } b: me { id } }").unwrap().unwrap();
        assert_eq!(s.operations(), 1);
    }

    #[test]
    fn introspection_has_its_own_depth_but_bounded_lists() {
        let deep_types = format!(
            "{{ __schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }} }}",
            "ofType { ".repeat(12),
            " }".repeat(12)
        );
        assert!(check(&deep_types).is_ok());
        let lists =
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
        assert!(check(lists).unwrap_err().contains("lists"));
    }

    #[test]
    fn token_limit() {
        let q = format!("{{ __typename {} }}", "@skip(if: false) ".repeat(2000));
        assert!(check(&q).unwrap_err().contains("tokens"));
    }

    #[test]
    fn kept_documents_are_bounded() {
        let docs = Documents::default();
        let parse = |q: &str| async_graphql::parser::parse_query(q).unwrap();
        let q = "{ __typename }";
        assert!(docs.get(q).is_none());
        docs.keep(q.to_owned(), &parse(q));
        let again = docs.get(q).unwrap();
        assert!(matches!(again.operations, DocumentOperations::Single(_)));
        // A long document is not kept.
        let long = format!("{{ __typename }} # {}", "x".repeat(Documents::LONGEST));
        docs.keep(long.clone(), &parse(&long));
        assert!(docs.get(&long).is_none());
        // Full, it starts again empty.
        for i in 1..Documents::CAPACITY {
            let q = format!("{{ a{i}: __typename }}");
            docs.keep(q.clone(), &parse(&q));
        }
        assert_eq!(docs.len(), Documents::CAPACITY);
        let q = "{ last: __typename }";
        docs.keep(q.to_owned(), &parse(q));
        assert_eq!(docs.len(), 1);
        assert!(docs.get(q).is_some());
    }

    #[test]
    fn variable_depth() {
        let mut v = serde_json::json!(1);
        for _ in 0..20 {
            v = serde_json::json!({ "a": v });
        }
        let v = Value::from_json(v).unwrap();
        assert!(value_depth(&v, 16) > 16);
    }
}
