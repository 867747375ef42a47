//! `#[derive(Storage)]`: a contract state struct whose fields are storage
//! handles, each keyed by its field name (or `#[storage(key = "...")]`).

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, LitByteStr};

/// The storage key of a field: `#[storage(key = "...")]` or its name.
fn field_key(f: &syn::Field) -> syn::Result<String> {
    let mut key = f.ident.as_ref().map(|i| i.to_string());
    for a in &f.attrs {
        if !a.path().is_ident("storage") {
            continue;
        }
        a.parse_nested_meta(|m| {
            if m.path.is_ident("key") {
                let lit: syn::LitStr = m.value()?.parse()?;
                key = Some(lit.value());
                Ok(())
            } else {
                Err(m.error("expected `key = \"...\"`"))
            }
        })?;
    }
    let key = key.ok_or_else(|| {
        syn::Error::new_spanned(f, "a tuple-struct field needs `#[storage(key = \"...\")]`")
    })?;
    if key.is_empty() || key.len() > 128 || key.contains('\0') {
        return Err(syn::Error::new_spanned(
            f,
            "a storage key is 1 to 128 bytes without NUL",
        ));
    }
    Ok(key)
}

pub(crate) fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "`Storage` derives for structs of storage handles",
        ));
    };
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "a contract state cannot be generic",
        ));
    }
    let ident = &input.ident;
    let mut seen = HashMap::new();
    let mut inits = Vec::new();
    for (i, f) in data.fields.iter().enumerate() {
        let key = field_key(f)?;
        if let Some(other) = seen.insert(key.clone(), i) {
            let _ = other;
            return Err(syn::Error::new_spanned(
                f,
                format!("storage key `{key}` is used twice"),
            ));
        }
        let lit = LitByteStr::new(key.as_bytes(), proc_macro2::Span::call_site());
        let ty = &f.ty;
        inits.push(quote!(<#ty as ::x64vm_sdk::storage::Handle>::at(#lit)));
    }
    let body = match &data.fields {
        Fields::Named(named) => {
            let names = named.named.iter().map(|f| &f.ident);
            quote!(Self { #(#names: #inits),* })
        }
        Fields::Unnamed(_) => quote!(Self(#(#inits),*)),
        Fields::Unit => quote!(Self),
    };
    Ok(quote! {
        impl ::x64vm_sdk::Storage for #ident {
            fn load() -> Self {
                #body
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(s: &str) -> syn::Result<String> {
        expand(syn::parse_str(s).unwrap()).map(|t| t.to_string())
    }

    #[test]
    fn keys_are_field_names_or_overrides() {
        let out = expand_str(
            r#"struct Token { total_supply: StorageValue<u128>, #[storage(key = "bal")] balances: StorageMap<Address, u128> }"#,
        )
        .unwrap();
        assert!(out.contains(r#"at (b"total_supply")"#), "{out}");
        assert!(out.contains(r#"at (b"bal")"#), "{out}");
        assert!(expand_str("struct Fib;").unwrap().contains("Self"));
    }

    #[test]
    fn rejections() {
        assert!(
            expand_str(
                r#"struct S { a: StorageValue<u8>, #[storage(key = "a")] b: StorageValue<u8> }"#
            )
            .unwrap_err()
            .to_string()
            .contains("used twice")
        );
        assert!(expand_str("struct S(StorageValue<u8>);").is_err());
        assert!(expand_str("enum E { A }").is_err());
    }
}
