//! What a live schema holds, read from its catalog and a sample of its rows: how
//! its tables refer to each other (`relations`), which tables hold people and which
//! columns link a row to one, and which columns look personal (`personal`). Shared
//! by `init`, the coverage findings of `check` and the report. Pure.

mod people;
mod personal;
mod relations;

pub use people::{names_a_person, people_table, person_link};
pub use personal::{PersonalColumn, personal_columns};
pub use relations::{Link, LinkBy, Relations};
