//! `spelled!`: an enum with one spelling per variant, used alike in retentiond's
//! tables, in JSON and in text, so that a state is never a bare string compared in
//! two places with two spellings.

/// Declares `pub enum $name` whose variants are spelled by the given literals:
/// `as_str`, `parse`, `Display`, serde both ways, and an order by spelling (so maps
/// keyed by it list their keys alphabetically, as maps keyed by text did). A
/// variant may give its `words` for people after its spelling: `X = "x_y" ("x y")`.
macro_rules! spelled {
    (@words $text:literal) => { $text };
    (@words $text:literal $words:literal) => { $words };
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal $(($words:literal))?),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// In words, for text, Markdown and HTML: `partially retained` where the
            /// spelling is `partially_retained`.
            pub fn words(self) -> &'static str {
                match self {
                    $($name::$variant => spelled!(@words $text $($words)?)),+
                }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// (spelling, variant) pairs, for a config key that takes one of them.
            pub fn choices() -> Vec<(&'static str, $name)> {
                $name::ALL.iter().map(|v| (v.as_str(), *v)).collect()
            }

            /// The spellings, for "valid: ..." in errors.
            pub fn spellings() -> String {
                let all: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                all.join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.as_str().cmp(other.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                $name::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "`{text}` is not one of {}",
                        $name::spellings()
                    ))
                })
            }
        }
    };
}

pub(crate) use spelled;

#[cfg(test)]
mod tests {
    spelled! {
        /// A test enum.
        pub enum Light {
            Green = "green",
            AmberFlashing = "amber_flashing" ("amber, flashing"),
        }
    }

    #[test]
    fn one_spelling_in_text_json_and_back() {
        assert_eq!(Light::AmberFlashing.as_str(), "amber_flashing");
        assert_eq!(Light::AmberFlashing.words(), "amber, flashing");
        assert_eq!(Light::Green.words(), "green");
        assert_eq!(Light::parse("green"), Some(Light::Green));
        assert_eq!(Light::parse("Green"), None);
        assert_eq!(
            serde_json::to_string(&Light::AmberFlashing).unwrap(),
            "\"amber_flashing\""
        );
        let back: Light = serde_json::from_str("\"green\"").unwrap();
        assert_eq!(back, Light::Green);
        let err = serde_json::from_str::<Light>("\"red\"").unwrap_err();
        assert!(err.to_string().contains("green, amber_flashing"), "{err}");
        assert!(Light::AmberFlashing < Light::Green, "ordered by spelling");
        assert_eq!(
            Light::choices()[1],
            ("amber_flashing", Light::AmberFlashing)
        );
    }
}
