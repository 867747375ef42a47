//! `#[event]` on a struct: the `Event` impl (signature, topic computed here at
//! compile time, Borsh data) and the event's ABI line.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Fields, ItemStruct};

use crate::abi::{self, Param};
use crate::contract::abi_static;

pub(crate) fn expand(attr: TokenStream, item: ItemStruct) -> syn::Result<TokenStream> {
    if !attr.is_empty() {
        return Err(syn::Error::new_spanned(
            attr,
            "`#[event]` takes no arguments",
        ));
    }
    if !item.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &item.generics,
            "an event cannot be generic",
        ));
    }
    let mut params = Vec::new();
    let mut accessors = Vec::new();
    for (i, f) in item.fields.iter().enumerate() {
        params.push(Param {
            ty: abi::abi_type(&f.ty)?,
            name: f.ident.as_ref().map(|n| n.to_string()),
        });
        accessors.push(match &f.ident {
            Some(n) => quote!(#n),
            None => {
                let idx = syn::Index::from(i);
                quote!(#idx)
            }
        });
    }
    if matches!(item.fields, Fields::Unit) {
        accessors.clear();
    }
    let name = item.ident.to_string();
    let signature = abi::signature(&name, &params);
    let topic = abi::keccak256(signature.as_bytes());
    let line = abi::event_line(&name, &params) + "\n";
    let abi = abi_static(&line);
    let ident = &item.ident;
    Ok(quote! {
        #item

        impl ::x64vm_sdk::Event for #ident {
            const SIGNATURE: &'static str = #signature;
            const TOPIC: [u8; 32] = [#(#topic),*];
            fn encode_data(&self, out: &mut ::x64vm_sdk::__private::Vec<u8>) {
                #(::x64vm_sdk::Encode::encode(&self.#accessors, out);)*
                let _ = out;
            }
        }

        const _: () = {
            #abi
        };
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_is_keccak_of_the_signature() {
        let item: ItemStruct = syn::parse_str(
            "pub struct Transfer { pub from: Address, pub to: Address, pub amount: u128 }",
        )
        .unwrap();
        let out = expand(TokenStream::new(), item).unwrap().to_string();
        assert!(out.contains(r#""Transfer(address,address,u128)""#), "{out}");
        let t = abi::keccak256(b"Transfer(address,address,u128)");
        assert!(
            out.contains(&format!("[{}u8 , {}u8 ,", t[0], t[1])),
            "{out}"
        );
        assert!(
            out.contains(r#"b"event Transfer(address from, address to, u128 amount)\n""#),
            "{out}"
        );
    }

    #[test]
    fn tuple_and_unit_events() {
        let item: ItemStruct = syn::parse_str("struct Pinged(u64, bool);").unwrap();
        let out = expand(TokenStream::new(), item).unwrap().to_string();
        assert!(out.contains(r#""Pinged(u64,bool)""#));
        assert!(out.contains(r#"b"event Pinged(u64, bool)\n""#), "{out}");
        let item: ItemStruct = syn::parse_str("struct Reset;").unwrap();
        let out = expand(TokenStream::new(), item).unwrap().to_string();
        assert!(out.contains(r#""Reset()""#));
        let item: ItemStruct = syn::parse_str("struct Bad { x: f32 }").unwrap();
        assert!(expand(TokenStream::new(), item).is_err());
    }
}
