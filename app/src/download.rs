//! Offering bytes the page made (an alerts CSV, a bundle, a report) as a file download: a Blob
//! behind an object URL, clicked through a detached anchor. No server is involved.

use wasm_bindgen::JsCast;

use crate::error::AppError;

/// Offers `text` as a download named `name` of type `mime`.
pub fn text(name: &str, mime: &str, text: &str) -> Result<(), AppError> {
    offer(name, mime, &js_sys::Array::of1(&text.into())).map_err(AppError::Browser)
}

/// Offers `bytes` as a download named `name` of type `mime`.
pub fn bytes(name: &str, mime: &str, bytes: &[u8]) -> Result<(), AppError> {
    offer(name, mime, &js_sys::Array::of1(&js_sys::Uint8Array::from(bytes))).map_err(AppError::Browser)
}

fn offer(name: &str, mime: &str, parts: &js_sys::Array) -> Result<(), String> {
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(parts, &opts).map_err(|e| format!("{e:?}"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))?;
    let doc = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = doc.create_element("a").map_err(|e| format!("{e:?}"))?.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// Today as `YYYY-MM-DD`, for file names.
pub fn today() -> String {
    String::from(js_sys::Date::new_0().to_iso_string()).chars().take(10).collect()
}
