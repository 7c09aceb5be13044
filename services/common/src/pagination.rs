//! Keyset pagination shared by every list: `limit` (1–100) and `apres`, the
//! last id of the previous page. Answers carry `suivant`, the next cursor.

use serde::Deserialize;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug, Clone, Copy, Deserialize, utoipa::IntoParams)]
pub struct PageParams {
    /// Page size, 1 to 100 (default 50).
    pub limit: Option<u32>,
    /// Cursor: the `suivant` value of the previous page.
    pub apres: Option<i64>,
}

/// A checked page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    pub apres: i64,
}

impl Page {
    pub fn parse(limit: Option<u32>, apres: Option<i64>) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::field("limit", format!("entre 1 et {MAX_LIMIT}")));
        }
        let apres = apres.unwrap_or(0);
        if apres < 0 {
            return Err(ApiError::field("apres", "curseur invalide"));
        }
        Ok(Self { limit, apres })
    }

    /// Rows to fetch: one more than the page, to know whether a next exists.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// Trims the extra row and returns the next cursor.
    pub fn finish<T>(&self, mut rows: Vec<T>, id: impl Fn(&T) -> i64) -> (Vec<T>, Option<i64>) {
        if rows.len() > self.limit as usize {
            rows.truncate(self.limit as usize);
            let next = rows.last().map(id);
            (rows, next)
        } else {
            (rows, None)
        }
    }
}

impl TryFrom<PageParams> for Page {
    type Error = ApiError;
    fn try_from(p: PageParams) -> Result<Self, ApiError> {
        Page::parse(p.limit, p.apres)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_bounded() {
        assert!(Page::parse(Some(0), None).is_err());
        assert!(Page::parse(Some(101), None).is_err());
        assert_eq!(Page::parse(None, None).unwrap(), Page { limit: 50, apres: 0 });
    }

    #[test]
    fn next_cursor_is_the_last_id_when_more_rows_exist() {
        let p = Page::parse(Some(2), None).unwrap();
        assert_eq!(p.finish(vec![1, 2, 3], |x| *x), (vec![1, 2], Some(2)));
        assert_eq!(p.finish(vec![1, 2], |x| *x), (vec![1, 2], None));
    }
}
