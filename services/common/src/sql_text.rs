//! Stores a Rust enum as a `VARCHAR` guarded by a `CHECK` (sqlx's derive maps
//! enums to MySQL `ENUM`, which the schemas avoid so values can be added by a
//! plain migration).

/// Implements sqlx `Type`/`Encode`/`Decode` for `$t` via `as_str()` and `FromStr`.
#[macro_export]
macro_rules! sql_text_enum {
    ($t:ty) => {
        impl sqlx::Type<sqlx::MySql> for $t {
            fn type_info() -> sqlx::mysql::MySqlTypeInfo {
                <str as sqlx::Type<sqlx::MySql>>::type_info()
            }
            fn compatible(ty: &sqlx::mysql::MySqlTypeInfo) -> bool {
                <str as sqlx::Type<sqlx::MySql>>::compatible(ty)
            }
        }
        impl<'q> sqlx::Encode<'q, sqlx::MySql> for $t {
            fn encode_by_ref(&self, buf: &mut Vec<u8>) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<sqlx::MySql>>::encode(self.as_str(), buf)
            }
        }
        impl<'r> sqlx::Decode<'r, sqlx::MySql> for $t {
            fn decode(value: sqlx::mysql::MySqlValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let s = <&str as sqlx::Decode<sqlx::MySql>>::decode(value)?;
                s.parse::<$t>().map_err(Into::into)
            }
        }
    };
}
