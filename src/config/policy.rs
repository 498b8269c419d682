//! `[[policy]]` entries: each read into a [`Policy`], then the rules that relate
//! several keys of one policy, and those across policies (unique names, a key for
//! `hash`).

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::MIN_KEY_BYTES;
use super::cascade::{cascade, check_cascades};
use super::sections;
use super::walk::{Cx, Item, get};
use crate::period::{self, Period};
use crate::policy::{
    Action, Anonymize, Basis, Cascade, Filter, Ident, Loc, Partitions, Policy, Strategy, Walk,
};

const POLICY_KEYS: &[&str] = &[
    "name",
    "description",
    "table",
    "key",
    "timestamp",
    "keep",
    "basis",
    "subject",
    "action",
    "cascade",
    "files",
    "filter",
    "marker",
    "anonymize",
    "vacuum",
    "partitions",
    "walk",
    "max_table_fraction",
];

/// Every `[[policy]]` of the file, in the order written, with the rules across them.
pub(super) fn policies(
    cx: &mut Cx,
    root: &DeTable,
    key_file: Option<&Item>,
    stores: &[String],
) -> Vec<Policy> {
    let mut policies = Vec::new();
    let Some(item) = get(root, "policy") else {
        cx.problem(
            0..0,
            "no [[policy]] is defined".into(),
            Some("add at least one [[policy]] with name, table, timestamp, keep and action".into()),
        );
        return policies;
    };
    let DeValue::Array(entries) = item.get_ref() else {
        cx.problem(
            item.span(),
            "`policy` must be an array of tables".into(),
            Some("write each policy under its own [[policy]] header".into()),
        );
        return policies;
    };
    for (i, entry) in entries.iter().enumerate() {
        let what = format!("[[policy]] #{}", i + 1);
        if let Some(t) = cx.table(entry, &what)
            && let Some(p) = policy(cx, t, entry.span(), i + 1, stores)
        {
            policies.push(p);
        }
    }
    check_names_are_unique(cx, &policies);
    check_hash_has_a_key(cx, &policies, key_file);
    policies
}

fn check_names_are_unique(cx: &mut Cx, policies: &[Policy]) {
    for (i, p) in policies.iter().enumerate() {
        if let Some(first) = policies[..i].iter().find(|q| q.name == p.name) {
            let at = cx.offset_of(p.loc);
            cx.problem(
                at..at,
                format!("duplicate policy name `{}`", p.name),
                Some(format!(
                    "the first policy with this name is at line {}; names must be unique",
                    first.loc.line
                )),
            );
        }
    }
}

fn check_hash_has_a_key(cx: &mut Cx, policies: &[Policy], key_file: Option<&Item>) {
    let needs_key = policies
        .iter()
        .flat_map(|p| &p.anonymize)
        .find(|a| a.strategy == Strategy::Hash);
    if let (Some(a), None) = (needs_key, key_file) {
        let at = cx.offset_of(a.column.loc);
        cx.problem(
            at..at,
            format!(
                "strategy `hash` for column `{}` needs a secret key, and [anonymize] key_file is not set",
                a.column.name
            ),
            Some(format!(
                "add [anonymize] key_file = \"/etc/retentiond/hmac.key\" and create the key with: head -c {MIN_KEY_BYTES} /dev/urandom > /etc/retentiond/hmac.key"
            )),
        );
    }
}

/// The keys of one `[[policy]]`, each read on its own so that all their problems
/// are reported together.
struct Fields {
    description: Option<String>,
    table: Option<Ident>,
    key: Option<Vec<Ident>>,
    timestamp: Option<Ident>,
    keep: Option<(Period, String)>,
    basis: Option<Basis>,
    subject: Option<Ident>,
    action: Option<Action>,
    cascade: Option<Vec<Cascade>>,
    files: Option<Vec<crate::policy::FileColumn>>,
    filter: Option<Vec<Filter>>,
    marker: Option<Ident>,
    anonymize: Option<Vec<Anonymize>>,
    vacuum: Option<bool>,
    partitions: Option<Partitions>,
    walk: Option<Walk>,
    max_table_fraction: Option<f64>,
}

fn policy(
    cx: &mut Cx,
    t: &DeTable,
    span: Range<usize>,
    index: usize,
    stores: &[String],
) -> Option<Policy> {
    let name = name(cx, t, &span, index);
    let what = match &name {
        Some((n, _)) => format!("in [[policy]] \"{n}\""),
        None => format!("in [[policy]] #{index}"),
    };
    cx.check_keys(t, POLICY_KEYS, &what);
    let f = fields(cx, t, &span, &what, stores);
    let (name, loc) = name?;
    // An invalid `partitions` still lets the other rules be checked.
    let partitions_valid = f.partitions.is_some();
    let (keep, keep_as_written) = f.keep?;
    let policy = Policy {
        name,
        loc,
        description: f.description,
        table: f.table?,
        key: f.key?,
        timestamp: f.timestamp?,
        keep,
        keep_as_written,
        basis: f.basis,
        subject: f.subject,
        action: f.action?,
        cascade: f.cascade?,
        files: f.files?,
        filter: f.filter?,
        marker: f.marker,
        anonymize: f.anonymize?,
        vacuum: f.vacuum,
        max_table_fraction: f.max_table_fraction,
        partitions: f.partitions.unwrap_or_default(),
        walk: f.walk.unwrap_or_default(),
    };
    let action_span = get(t, "action").map(|v| v.span()).unwrap_or(span);
    check_action(cx, t, &policy, action_span);
    check_cascades(cx, &policy);
    partitions_valid.then_some(policy)
}

fn name(cx: &mut Cx, t: &DeTable, span: &Range<usize>, index: usize) -> Option<(String, Loc)> {
    let Some(v) = get(t, "name") else {
        cx.problem(
            span.start..span.start,
            format!("[[policy]] #{index} has no `name`"),
            Some("add name = \"orders\" (a unique short name)".into()),
        );
        return None;
    };
    let n = cx.string(v, "name")?;
    if n.trim().is_empty() {
        cx.problem(
            v.span(),
            "policy name is empty".into(),
            Some("a short name such as \"orders\"".into()),
        );
        return None;
    }
    Some((n, cx.loc(v.span().start)))
}

fn fields(cx: &mut Cx, t: &DeTable, span: &Range<usize>, what: &str, stores: &[String]) -> Fields {
    let required = |cx: &mut Cx, key: &str, example: &str| {
        let v = get(t, key);
        if v.is_none() {
            cx.problem(
                span.start..span.start,
                format!("missing `{key}` {what}"),
                Some(format!("add {key} = {example}")),
            );
        }
        v
    };
    let table = required(cx, "table", "\"orders\"").and_then(|v| cx.ident(v, "table", true));
    let timestamp =
        required(cx, "timestamp", "\"placed_at\"").and_then(|v| cx.ident(v, "timestamp", false));
    let keep = required(cx, "keep", "\"10 years\"").and_then(|v| keep(cx, v));
    let action = required(cx, "action", "\"delete\" or \"anonymize\"")
        .and_then(|v| cx.choice(v, "action", &Action::choices()));
    let key = match get(t, "key") {
        Some(v) => cx.ident_list(v, "key", false),
        None => Some(vec![Ident {
            name: "id".into(),
            loc: cx.loc(span.start),
        }]),
    };
    Fields {
        description: get(t, "description").and_then(|v| cx.string(v, "description")),
        table,
        key,
        timestamp,
        keep,
        basis: get(t, "basis").and_then(|v| cx.choice(v, "basis", &Basis::choices())),
        subject: get(t, "subject").and_then(|v| cx.ident(v, "subject", false)),
        action,
        cascade: get(t, "cascade").map_or(Some(Vec::new()), |v| cascade(cx, v, stores)),
        files: get(t, "files").map_or(Some(Vec::new()), |v| super::stores::files(cx, v, stores)),
        filter: get(t, "filter").map_or(Some(Vec::new()), |v| filter(cx, v)),
        marker: get(t, "marker").and_then(|v| cx.ident(v, "marker", false)),
        anonymize: get(t, "anonymize").map_or(Some(Vec::new()), |v| anonymize(cx, v)),
        vacuum: get(t, "vacuum").and_then(|v| cx.boolean(v, "vacuum")),
        max_table_fraction: get(t, "max_table_fraction").and_then(|v| sections::fraction(cx, v)),
        partitions: match get(t, "partitions") {
            Some(v) => cx.choice(
                v,
                "partitions",
                &[("rows", Partitions::Rows), ("drop", Partitions::Drop)],
            ),
            None => Some(Partitions::Rows),
        },
        walk: get(t, "walk").and_then(|v| {
            cx.choice(
                v,
                "walk",
                &[
                    ("auto", Walk::Auto),
                    ("index", Walk::Index),
                    ("table", Walk::Table),
                ],
            )
        }),
    }
}

fn keep(cx: &mut Cx, v: &Item) -> Option<(Period, String)> {
    let s = cx.string(v, "keep")?;
    match period::parse(&s) {
        Ok(p) => Some((p, s.trim().to_string())),
        Err(e) => {
            cx.problem(v.span(), e, None);
            None
        }
    }
}

/// What one action rules out: a delete has no columns to anonymise and no marker;
/// an anonymisation names its columns, cascades nothing and drops no partition.
fn check_action(cx: &mut Cx, t: &DeTable, p: &Policy, action_span: Range<usize>) {
    let name = &p.name;
    match p.action {
        Action::Delete => {
            if let Some(v) = get(t, "anonymize") {
                cx.problem(
                    v.span(),
                    format!("policy `{name}` deletes rows, so `anonymize` has no effect"),
                    Some("remove [policy.anonymize], or set action = \"anonymize\"".into()),
                );
            }
            if let Some(m) = &p.marker {
                let at = cx.offset_of(m.loc);
                cx.problem(
                    at..at,
                    format!("policy `{name}` deletes rows, so `marker` has no effect"),
                    Some("remove marker, or set action = \"anonymize\"".into()),
                );
            }
        }
        Action::Anonymize => check_anonymize(cx, t, p, action_span),
    }
}

fn check_anonymize(cx: &mut Cx, t: &DeTable, p: &Policy, action_span: Range<usize>) {
    let name = &p.name;
    if p.anonymize.is_empty() {
        cx.problem(action_span, format!("policy `{name}` anonymises but names no columns"), Some("add [policy.anonymize] with column = \"strategy\" lines, e.g. ip_address = \"truncate_ip\"".into()));
    }
    if let Some(c) = p.cascade.first() {
        let at = cx.offset_of(c.table.loc);
        cx.problem(at..at, format!("policy `{name}` anonymises rows, so `cascade` (which deletes child rows) does not apply"), Some("remove cascade, or give the child table its own anonymise policy".into()));
    }
    for a in p
        .anonymize
        .iter()
        .filter(|a| a.strategy == Strategy::RemoveFile)
    {
        let listed = p
            .files
            .iter()
            .any(|f| f.column.name.eq_ignore_ascii_case(&a.column.name));
        if !listed {
            let at = cx.offset_of(a.column.loc);
            cx.problem(
                at..at,
                format!(
                    "`remove_file` on column `{}` needs to know the store the file is in",
                    a.column.name
                ),
                Some(format!(
                    "add files = {{ {} = \"uploads\" }} (a [stores.uploads])",
                    a.column.name
                )),
            );
        }
    }
    for a in &p.anonymize {
        let is = |i: &Ident| i.name.eq_ignore_ascii_case(&a.column.name);
        if p.key.iter().any(is) || p.marker.as_ref().is_some_and(is) {
            let at = cx.offset_of(a.column.loc);
            cx.problem(
                at..at,
                format!(
                    "column `{}` is the policy's key or marker and cannot be anonymised",
                    a.column.name
                ),
                Some("anonymise personal data columns only".into()),
            );
        }
    }
    if p.partitions == Partitions::Drop
        && let Some(v) = get(t, "partitions")
    {
        cx.problem(
            v.span(),
            format!("policy `{name}` anonymises rows, so it cannot drop partitions"),
            Some("remove partitions, or set action = \"delete\"".into()),
        );
    }
}

fn filter(cx: &mut Cx, v: &Item) -> Option<Vec<Filter>> {
    let t = cx.table(v, "filter")?;
    let mut out = Vec::new();
    let mut ok = true;
    for (k, val) in t.iter() {
        let Some(column) = cx.ident_text(k.get_ref(), k.span(), "filter column", false) else {
            ok = false;
            continue;
        };
        let values = match val.get_ref() {
            DeValue::Array(items) if items.is_empty() => {
                cx.problem(
                    val.span(),
                    format!("filter on `{}` lists no values", column.name),
                    Some("give one value or a non-empty list".into()),
                );
                None
            }
            DeValue::Array(items) => items
                .iter()
                .map(|i| cx.filter_value(i))
                .collect::<Option<Vec<_>>>(),
            _ => cx.filter_value(val).map(|x| vec![x]),
        };
        match values {
            Some(values) => out.push(Filter { column, values }),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn anonymize(cx: &mut Cx, v: &Item) -> Option<Vec<Anonymize>> {
    let t = cx.table(v, "[policy.anonymize]")?;
    let mut out = Vec::new();
    let mut ok = true;
    for (k, val) in t.iter() {
        let column = cx.ident_text(k.get_ref(), k.span(), "anonymize column", false);
        let strategy = cx.choice(val, "strategy", &Strategy::choices());
        match (column, strategy) {
            (Some(column), Some(strategy)) => out.push(Anonymize { column, strategy }),
            _ => ok = false,
        }
    }
    ok.then_some(out)
}
