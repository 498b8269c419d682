//! Personal data by a column's name and type: the words shop platforms name such
//! columns with (`id_customer`, `customerEmail`, `passwd`, `dni`, `vat_number`),
//! and the shapes that are about a thing rather than the thing (ids, counts,
//! flags: `id_address_delivery`, `email_verified`, `send_email`, `mobile_theme`).
//! And whether a value reads like a person's name.

use super::{Holds, PersonalKind};

/// The words of a column name: `customerEmail`, `customer_email` and
/// `CUSTOMER-EMAIL` all give `customer`, `email`.
pub(super) fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            out.push(std::mem::take(&mut word));
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower {
            out.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    out.push(word);
    out.retain(|w| !w.is_empty());
    out
}

/// Last words that make a column about a thing, not the thing: `email_verified`,
/// `phone_count`, `address_id`.
const ABOUT: &[&str] = &[
    "id",
    "ids",
    "count",
    "verified",
    "type",
    "status",
    "format",
    "confirmed",
    "sent",
    "required",
    "enabled",
    "template",
    "templates",
    "theme",
    "method",
    "rule",
    "rules",
    "group",
    "subject",
    "title",
];

/// First words of flags and settings: `send_email`, `is_guest`, `show_phone`.
const FLAG: &[&str] = &[
    "is", "has", "can", "send", "show", "use", "allow", "enable", "enabled", "need", "needs",
    "require", "hide", "display",
];

/// The first words of national identity numbers, passports and the like.
const NATIONAL_ID: &[&str] = &[
    "dni", "nif", "nie", "ssn", "cpf", "nin", "pesel", "passport", "idcard", "ahv", "bsn",
];
const TAX_ID: &[&str] = &["vat", "taxvat", "ustid", "tin", "siren", "tax"];
const PASSWORD: &[&str] = &[
    "passwd",
    "password",
    "pwd",
    "pass",
    "passhash",
    "passphrase",
];
const FREE_TEXT: &[&str] = &[
    "note", "notes", "message", "messages", "comment", "comments", "remark", "remarks", "question",
    "body",
];
/// Words of a column holding an uploaded file's path or key: `scan_path`,
/// `avatar`, `attachment`, `file_name`. `path` or `url` alone (a page visited)
/// is not one.
const UPLOAD: &[&str] = &[
    "scan",
    "scans",
    "upload",
    "uploaded",
    "uploads",
    "attachment",
    "attachments",
    "avatar",
    "photo",
    "picture",
    "selfie",
    "file",
    "filename",
    "filepath",
];
/// Words that make an UPLOAD-free name a file's place when paired with one of
/// `DOCUMENT`: `document_path`, `image_url`, `proof_key`.
const PLACE: &[&str] = &["path", "url", "uri", "key", "location", "blob"];
const DOCUMENT: &[&str] = &["document", "image", "proof", "copy", "pdf"];
const CONSENT: &[&str] = &[
    "newsletter",
    "optin",
    "consent",
    "consents",
    "marketing",
    "subscribed",
    "unsubscribed",
    "gdpr",
];
const GIVEN_OR_FAMILY: &[&str] = &[
    "firstname",
    "lastname",
    "surname",
    "fullname",
    "middlename",
    "nickname",
    "username",
    "givenname",
    "familyname",
];
const A_PERSONS: &[&str] = &[
    "customer",
    "contact",
    "billing",
    "shipping",
    "recipient",
    "holder",
    "sender",
    "author",
    "user",
    "card",
    "first",
    "last",
    "display",
    "full",
    "given",
    "family",
    "middle",
    "maiden",
];

/// A column's kind by its name, given what its type can hold. A name alone does
/// not make an id, a count or a flag personal: `id_address_delivery`,
/// `email_count`, `send_email` as a tinyint are not.
pub fn by_name(name: &str, holds: Holds) -> Option<PersonalKind> {
    let w = words(name);
    let has = |x: &str| w.iter().any(|v| v == x);
    let first = w.first().map(String::as_str).unwrap_or("");
    let last = w.last().map(String::as_str).unwrap_or("");
    let joined = w.join("_");
    let is_id = first == "id" || ABOUT.contains(&last);
    if CONSENT.iter().any(|c| has(c)) || joined.contains("opt_in") {
        // A consent is a flag (`is_subscribed`) or a date; its IP is an IP address.
        if has("ip") {
            return Some(PersonalKind::IpAddress);
        }
        return (!is_id).then_some(PersonalKind::Consent);
    }
    let is_flag = FLAG.contains(&first) && matches!(holds, Holds::Integer | Holds::Other);
    if is_flag {
        return None;
    }
    // Before identity documents: `passport_scan` is a file, not a number.
    if !is_id && matches!(holds, Holds::Text | Holds::Anything) && is_upload(&w) {
        return Some(PersonalKind::File);
    }
    if let Some(kind) = identity_document(&w, &joined, holds) {
        return Some(kind);
    }
    if is_id {
        return None;
    }
    let text = matches!(holds, Holds::Text | Holds::Anything);
    let kind = if has("ip") || joined.contains("remote_addr") || has("ipaddress") {
        matches!(
            holds,
            Holds::Text | Holds::Anything | Holds::Integer | Holds::Ip
        )
        .then_some(PersonalKind::IpAddress)?
    } else if PASSWORD.iter().any(|p| has(p)) {
        matches!(holds, Holds::Text | Holds::Anything).then_some(PersonalKind::Password)?
    } else if has("birthday") || has("dob") || has("birth") || has("birthdate") {
        matches!(
            holds,
            Holds::Time | Holds::Text | Holds::Anything | Holds::Integer
        )
        .then_some(PersonalKind::BirthDate)?
    } else if !text {
        return None;
    } else if has("email") || has("mail") || joined.contains("e_mail") || is_recipient(&w) {
        PersonalKind::Email
    } else if is_phone(&w) {
        PersonalKind::Phone
    } else if joined.contains("user_agent") || has("useragent") {
        PersonalKind::DeviceData
    } else if GIVEN_OR_FAMILY.iter().any(|n| has(n))
        || (has("name") && w.iter().any(|x| A_PERSONS.contains(&x.as_str())))
        || joined == "user_login"
        || last == "holder"
    {
        PersonalKind::Name
    } else if [
        "street", "city", "postcode", "zip", "zipcode", "address", "address1", "address2",
    ]
    .iter()
    .any(|n| has(n))
        || joined.contains("postal_code")
    {
        PersonalKind::PostalAddress
    } else if FREE_TEXT.iter().any(|n| has(n)) {
        PersonalKind::FreeText
    } else {
        return None;
    };
    Some(kind)
}

/// National and tax ids, recognised before the `id_` rule: `id_number` and
/// `national_id` are the thing itself.
fn identity_document(w: &[String], joined: &str, holds: Holds) -> Option<PersonalKind> {
    let has = |x: &str| w.iter().any(|v| v == x);
    if !matches!(holds, Holds::Text | Holds::Anything | Holds::Integer) {
        return None;
    }
    if NATIONAL_ID.iter().any(|n| has(n))
        || [
            "national_id",
            "id_number",
            "identity_number",
            "identification_number",
            "national_number",
            "personal_number",
            "social_security",
            "id_card",
        ]
        .iter()
        .any(|n| joined.contains(n))
    {
        return Some(PersonalKind::NationalId);
    }
    let named = ["number", "id", "no", "code", "nr"].iter().any(|s| has(s));
    let tax = TAX_ID.iter().any(|n| has(n)) && (named || (w.len() == 1 && w[0] != "tax"));
    let text = matches!(holds, Holds::Text | Holds::Anything);
    (tax && text && !has("rate") && !has("rules") && !has("group") && !has("class"))
        .then_some(PersonalKind::TaxId)
}

fn is_recipient(w: &[String]) -> bool {
    w.iter().any(|x| x == "recipient" || x == "recipients") && !w.iter().any(|x| x == "name")
}

/// Whether a column of `kind` named `name` is personal data on its own, or only
/// in a table that is about a person: an IP address, a postal address, free text
/// or a `display_name` may belong to a server, a store or a product.
pub fn speaks_for_itself(kind: PersonalKind, name: &str) -> bool {
    match kind {
        PersonalKind::IpAddress | PersonalKind::PostalAddress | PersonalKind::FreeText => false,
        PersonalKind::Name => {
            let w = words(name);
            let joined = w.join("_");
            GIVEN_OR_FAMILY.iter().any(|n| w.iter().any(|x| x == n))
                || [
                    "first", "last", "full", "given", "family", "middle", "maiden",
                ]
                .iter()
                .any(|n| w.iter().any(|x| x == n))
                || joined == "user_login"
        }
        _ => true,
    }
}

/// `scan_path`, `avatar`, `attachment`, `document_url`; not `path`, `file_size`
/// or `upload_count` (ABOUT words end those) or `mime_type`.
fn is_upload(w: &[String]) -> bool {
    let has = |list: &[&str]| w.iter().any(|v| list.contains(&v.as_str()));
    let about = [
        "size",
        "bytes",
        "mime",
        "hash",
        "checksum",
        "extension",
        "ext",
        "date",
        "at",
    ];
    if w.last().is_some_and(|l| about.contains(&l.as_str())) || w.iter().any(|v| v == "mime") {
        return false;
    }
    has(UPLOAD) || (has(PLACE) && has(DOCUMENT))
}

/// `phone`, `phone_mobile`, `telephone`, `fax`, a `mobile` that is a number:
/// `mobile_theme` is not.
fn is_phone(w: &[String]) -> bool {
    let has = |x: &str| w.iter().any(|v| v == x);
    has("phone")
        || has("telephone")
        || has("fax")
        || has("tel")
        || has("msisdn")
        || has("phonenumber")
        || (has("mobile") && (w.last().is_some_and(|l| l == "mobile") || has("number")))
}

/// Whether `text` reads like a person's name: two to four words of letters, the
/// first a common given name.
pub(super) fn is_a_persons_name(text: &str) -> bool {
    let parts: Vec<&str> = text.split_whitespace().collect();
    if !(2..=4).contains(&parts.len()) {
        return false;
    }
    let lettered = |p: &&str| {
        p.chars()
            .all(|c| c.is_alphabetic() || matches!(c, '-' | '\'' | '.'))
    };
    if !parts.iter().all(lettered) {
        return false;
    }
    let given = parts[0].to_lowercase();
    let given = given.split('-').next().unwrap_or("");
    GIVEN_NAMES.binary_search(&given).is_ok()
}

/// Common given names across Europe and the Americas, sorted: a value starting
/// with one of them, followed by a family name, is taken for a person's name.
const GIVEN_NAMES: &[&str] = &[
    "adam",
    "adrian",
    "agnieszka",
    "ahmed",
    "alan",
    "albert",
    "alejandro",
    "alessandro",
    "alex",
    "alexander",
    "ali",
    "alice",
    "amelia",
    "amy",
    "ana",
    "andrea",
    "andreas",
    "andrew",
    "angela",
    "anja",
    "ann",
    "anna",
    "anne",
    "anthony",
    "antonio",
    "barbara",
    "ben",
    "benjamin",
    "bob",
    "brian",
    "carlos",
    "carmen",
    "caroline",
    "catherine",
    "charles",
    "charlotte",
    "chris",
    "christian",
    "christina",
    "christine",
    "claire",
    "claudia",
    "cy",
    "daniel",
    "david",
    "diana",
    "elena",
    "elisabeth",
    "elizabeth",
    "emily",
    "emma",
    "eric",
    "eva",
    "fatima",
    "felix",
    "francesca",
    "francesco",
    "francisco",
    "frank",
    "george",
    "giovanni",
    "giulia",
    "greta",
    "hannah",
    "hans",
    "helen",
    "henry",
    "isabel",
    "isabella",
    "jack",
    "jakub",
    "james",
    "jan",
    "jane",
    "javier",
    "jean",
    "jennifer",
    "jessica",
    "joan",
    "johann",
    "johannes",
    "john",
    "jonas",
    "jorge",
    "jose",
    "joseph",
    "juan",
    "julia",
    "julie",
    "karin",
    "katarzyna",
    "kevin",
    "klaus",
    "laura",
    "lea",
    "lena",
    "leon",
    "linda",
    "lisa",
    "louis",
    "lucas",
    "lucia",
    "luis",
    "lukas",
    "manuel",
    "marc",
    "marco",
    "maria",
    "marie",
    "mario",
    "mark",
    "martin",
    "mary",
    "matteo",
    "max",
    "mehmet",
    "michael",
    "michel",
    "mohamed",
    "monika",
    "nicolas",
    "olga",
    "oliver",
    "olivia",
    "pablo",
    "patrick",
    "paul",
    "pedro",
    "peter",
    "petra",
    "philippe",
    "pierre",
    "piotr",
    "richard",
    "robert",
    "sabine",
    "sandra",
    "sara",
    "sarah",
    "sebastian",
    "sofia",
    "sophie",
    "stefan",
    "stephanie",
    "susan",
    "thomas",
    "tom",
    "ursula",
    "victoria",
    "william",
    "wolfgang",
    "yusuf",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_given_names_are_sorted_for_binary_search() {
        assert!(GIVEN_NAMES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn names_of_shop_platforms_are_recognised() {
        use Holds::{Integer, Text, Time};
        use PersonalKind::*;
        for (name, holds, kind) in [
            ("billing_email", Text, Some(Email)),
            ("customerEmail", Text, Some(Email)),
            ("recipient", Text, Some(Email)),
            ("email_verified", Integer, None),
            ("send_email", Integer, None),
            ("remote_ip", Text, Some(IpAddress)),
            ("ip_address", Integer, Some(IpAddress)),
            ("ip_registration_newsletter", Text, Some(IpAddress)),
            ("shipping_phone", Text, Some(Phone)),
            ("phone_mobile", Text, Some(Phone)),
            ("mobile", Text, Some(Phone)),
            ("mobile_theme", Integer, None),
            ("mobile_theme", Text, None),
            ("firstname", Text, Some(Name)),
            ("last_name", Text, Some(Name)),
            ("card_holder", Text, Some(Name)),
            ("customer_name", Text, Some(Name)),
            ("name", Text, None),
            ("address_1", Text, Some(PostalAddress)),
            ("postcode", Text, Some(PostalAddress)),
            ("address_id", Integer, None),
            ("id_address_delivery", Integer, None),
            ("dob", Time, Some(BirthDate)),
            ("birthday", Time, Some(BirthDate)),
            ("user_agent", Text, Some(DeviceData)),
            ("dni", Text, Some(NationalId)),
            ("passport_number", Text, Some(NationalId)),
            ("national_id", Text, Some(NationalId)),
            ("vat_number", Text, Some(TaxId)),
            ("taxvat", Text, Some(TaxId)),
            ("tax_rate", Text, None),
            ("need_identification_number", Integer, None),
            ("email_subject", Text, None),
            ("id_tax_rules_group", Integer, None),
            ("passwd", Text, Some(Password)),
            ("password_hash", Text, Some(Password)),
            ("last_passwd_gen", Time, None),
            ("zip_code", Text, Some(PostalAddress)),
            ("tax", Holds::Number, None),
            ("vat", Holds::Number, None),
            ("date_to", Time, None),
            ("note", Text, Some(FreeText)),
            ("message", Text, Some(FreeText)),
            ("gift_message", Text, Some(FreeText)),
            ("newsletter", Integer, Some(Consent)),
            ("newsletter_date_add", Time, Some(Consent)),
            ("optin", Integer, Some(Consent)),
            ("accepts_marketing", Integer, Some(Consent)),
            ("email_opt_in", Integer, Some(Consent)),
            ("is_subscribed", Integer, Some(Consent)),
            ("id_newsletter", Integer, None),
            ("shipping_method", Text, None),
            ("description", Text, None),
            ("ship", Text, None),
            ("amount", Integer, None),
            ("scan_path", Text, Some(File)),
            ("passport_scan", Text, Some(File)),
            ("avatar", Text, Some(File)),
            ("file_name", Text, Some(File)),
            ("attachment", Text, Some(File)),
            ("document_url", Text, Some(File)),
            ("path", Text, None),
            ("url", Text, None),
            ("file_size", Integer, None),
            ("file_size", Text, None),
            ("file_id", Text, None),
            ("id_attachment", Integer, None),
            ("photo_mime_type", Text, None),
            ("uploaded_at", Time, None),
        ] {
            assert_eq!(by_name(name, holds), kind, "{name} as {holds:?}");
        }
    }

    #[test]
    fn a_persons_name_starts_with_a_given_name() {
        for yes in [
            "Ann Smith",
            "maria garcía",
            "Jean-Luc Picard",
            "Anna von Berg",
        ] {
            assert!(is_a_persons_name(yes), "{yes}");
        }
        for no in [
            "Blue Mug",
            "Ann",
            "Ann Smith 3",
            "Bob's shop gift card sale",
        ] {
            assert!(!is_a_persons_name(no), "{no}");
        }
    }
}
