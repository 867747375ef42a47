//! `#[contract]` on an `impl` block: the `_start` dispatcher, argument decoding,
//! output encoding and the ABI lines of the exported functions.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{FnArg, ImplItem, ImplItemFn, ItemImpl, ReturnType, Visibility};

use crate::abi::{self, Param};

/// How the function's result becomes the call output.
enum Ret {
    /// `()`: empty output.
    Unit,
    /// A value encoded as the output.
    Value(&'static str),
    /// `Result<T, E>`: `Ok` encodes `T` (or nothing for `()`), `Err` reverts.
    Result(Option<&'static str>),
}

/// How the method reaches the contract state.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Receiver {
    None,
    Ref,
    Mut,
}

/// One exported function, as the dispatcher and the ABI see it.
struct Export {
    ident: syn::Ident,
    params: Vec<Param>,
    arg_types: Vec<syn::Type>,
    receiver: Receiver,
    ret: Ret,
    view: bool,
    payable: bool,
}

impl Export {
    fn signature(&self) -> String {
        abi::signature(&self.ident.to_string(), &self.params)
    }

    fn abi_line(&self) -> String {
        let ret = match self.ret {
            Ret::Unit | Ret::Result(None) => None,
            Ret::Value(t) | Ret::Result(Some(t)) => Some(t),
        };
        abi::fn_line(&self.ident.to_string(), &self.params, ret, self.view)
    }
}

/// Removes the SDK's marker attribute `name` from `attrs`; whether it was there.
fn take_marker(attrs: &mut Vec<syn::Attribute>, name: &str) -> syn::Result<bool> {
    let mut found = false;
    let mut err = None;
    attrs.retain(|a| {
        if a.path().is_ident(name) {
            if !matches!(a.meta, syn::Meta::Path(_)) {
                err = Some(syn::Error::new_spanned(
                    a,
                    format!("`#[{name}]` takes no arguments"),
                ));
            }
            found = true;
            false
        } else {
            true
        }
    });
    match err {
        Some(e) => Err(e),
        None => Ok(found),
    }
}

fn export(f: &mut ImplItemFn) -> syn::Result<Export> {
    let view_attr = take_marker(&mut f.attrs, "view")?;
    let payable = take_marker(&mut f.attrs, "payable")?;
    let sig = &f.sig;
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            "exported contract functions cannot be generic",
        ));
    }
    if let Some(a) = &sig.asyncness {
        return Err(syn::Error::new_spanned(
            a,
            "exported contract functions cannot be async",
        ));
    }
    if let Some(u) = &sig.unsafety {
        return Err(syn::Error::new_spanned(
            u,
            "exported contract functions cannot be unsafe",
        ));
    }
    let mut receiver = Receiver::None;
    let mut params = Vec::new();
    let mut arg_types = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(r) => {
                if r.reference.is_none() || r.colon_token.is_some() {
                    return Err(syn::Error::new_spanned(
                        r,
                        "exported contract methods take `&self` (view) or `&mut self`",
                    ));
                }
                receiver = if r.mutability.is_some() {
                    Receiver::Mut
                } else {
                    Receiver::Ref
                };
            }
            FnArg::Typed(t) => {
                params.push(Param {
                    ty: abi::abi_type(&t.ty)?,
                    name: abi::pat_name(&t.pat),
                });
                arg_types.push((*t.ty).clone());
            }
        }
    }
    let ret = match &sig.output {
        ReturnType::Default => Ret::Unit,
        ReturnType::Type(_, ty) if abi::is_unit(ty) => Ret::Unit,
        ReturnType::Type(_, ty) => match abi::result_ok_type(ty) {
            Some(ok) if abi::is_unit(ok) => Ret::Result(None),
            Some(ok) => Ret::Result(Some(abi::abi_type(ok)?)),
            None => Ret::Value(abi::abi_type(ty)?),
        },
    };
    if view_attr && receiver == Receiver::Mut {
        return Err(syn::Error::new_spanned(
            &sig.ident,
            "`#[view]` functions cannot take `&mut self`",
        ));
    }
    if payable && (view_attr || receiver == Receiver::Ref) {
        return Err(syn::Error::new_spanned(
            &sig.ident,
            "a `#[payable]` function changes state: take `&mut self`",
        ));
    }
    Ok(Export {
        ident: sig.ident.clone(),
        params,
        arg_types,
        receiver,
        ret,
        view: view_attr || receiver == Receiver::Ref,
        payable,
    })
}

/// The dispatcher arm of one export.
fn arm(e: &Export, self_ty: &syn::Type) -> TokenStream {
    let sel = abi::selector(&e.signature());
    let [s0, s1, s2, s3] = sel;
    let names: Vec<_> = (0..e.arg_types.len())
        .map(|i| format_ident!("__x64vm_arg{}", i))
        .collect();
    let types = &e.arg_types;
    let ident = &e.ident;
    // Views skip the check: it is a host call, and read-only queries carry no value.
    let value_check = if e.payable || e.view {
        quote!()
    } else {
        quote!(::x64vm_sdk::__private::not_payable();)
    };
    let call = match e.receiver {
        Receiver::None => quote!(<#self_ty>::#ident(#(#names),*)),
        Receiver::Ref => quote! {{
            let __x64vm_state = <#self_ty as ::x64vm_sdk::Storage>::load();
            __x64vm_state.#ident(#(#names),*)
        }},
        Receiver::Mut => quote! {{
            let mut __x64vm_state = <#self_ty as ::x64vm_sdk::Storage>::load();
            __x64vm_state.#ident(#(#names),*)
        }},
    };
    let output = match e.ret {
        Ret::Unit => quote!(::x64vm_sdk::__private::output_value(&__x64vm_ret);),
        Ret::Value(_) => quote!(::x64vm_sdk::__private::output_value(&__x64vm_ret);),
        Ret::Result(_) => quote!(::x64vm_sdk::__private::output_result(__x64vm_ret);),
    };
    quote! {
        [#s0, #s1, #s2, #s3] => {
            #value_check
            #(let #names: #types = ::x64vm_sdk::__private::arg(__x64vm_args);)*
            ::x64vm_sdk::__private::end_of_args(__x64vm_args);
            #[allow(clippy::let_unit_value)]
            let __x64vm_ret = #call;
            #output
            true
        }
    }
}

/// A `#[used]` static holding `text` in the `.x64vm.abi` section.
pub(crate) fn abi_static(text: &str) -> TokenStream {
    let bytes = syn::LitByteStr::new(text.as_bytes(), Span::call_site());
    let len = text.len();
    quote! {
        #[used]
        #[unsafe(link_section = ".x64vm.abi")]
        static __X64VM_ABI: [u8; #len] = *#bytes;
    }
}

pub(crate) fn expand(attr: TokenStream, mut item: ItemImpl) -> syn::Result<TokenStream> {
    if !attr.is_empty() {
        return Err(syn::Error::new_spanned(
            attr,
            "`#[contract]` takes no arguments",
        ));
    }
    if let Some((_, path, _)) = &item.trait_ {
        return Err(syn::Error::new_spanned(
            path,
            "`#[contract]` goes on an inherent `impl` block",
        ));
    }
    if !item.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &item.generics,
            "a contract type cannot be generic",
        ));
    }
    let self_ty = (*item.self_ty).clone();
    let mut exports = Vec::new();
    let mut seen: HashMap<[u8; 4], String> = HashMap::new();
    for it in &mut item.items {
        let ImplItem::Fn(f) = it else { continue };
        if !matches!(f.vis, Visibility::Public(_)) {
            for marker in ["view", "payable"] {
                if f.attrs.iter().any(|a| a.path().is_ident(marker)) {
                    return Err(syn::Error::new(
                        f.sig.ident.span(),
                        format!("`#[{marker}]` only applies to `pub` (exported) functions"),
                    ));
                }
            }
            continue;
        }
        let e = export(f)?;
        let sig = e.signature();
        if let Some(other) = seen.insert(abi::selector(&sig), sig.clone()) {
            return Err(syn::Error::new(
                f.sig.span(),
                format!("selector of `{sig}` collides with `{other}`"),
            ));
        }
        exports.push(e);
    }
    if exports.is_empty() {
        return Err(syn::Error::new_spanned(
            &item.self_ty,
            "a contract needs at least one `pub fn`",
        ));
    }
    let text: String = exports.iter().map(|e| e.abi_line() + "\n").collect();
    let abi = abi_static(&text);
    let arms = exports.iter().map(|e| arm(e, &self_ty));
    Ok(quote! {
        #item

        const _: () = {
            #abi

            ::x64vm_sdk::__entry!(|__x64vm_selector: [u8; 4], __x64vm_args: &mut &[u8]| -> bool {
                match __x64vm_selector {
                    #(#arms)*
                    _ => false,
                }
            });
        };
    })
}

/// The ABI text `#[contract]` would embed for `item` (for tests).
#[cfg(test)]
pub(crate) fn abi_text(item: &mut ItemImpl) -> syn::Result<String> {
    let mut text = String::new();
    for it in &mut item.items {
        if let ImplItem::Fn(f) = it {
            if matches!(f.vis, Visibility::Public(_)) {
                text += &(export(f)?.abi_line() + "\n");
            }
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> ItemImpl {
        syn::parse_str(src).unwrap()
    }

    #[test]
    fn abi_text_of_a_token() {
        let mut item = parse(
            r#"impl Token {
                pub fn name(&self) -> String { todo!() }
                pub fn total_supply(&self) -> u128 { todo!() }
                pub fn mint(&mut self, to: Address, amount: u128) { }
                pub fn transfer(&mut self, to: Address, amount: u128) -> bool { todo!() }
                pub fn approve(&mut self, spender: Address, amount: u128) -> Result<bool, &'static str> { todo!() }
                pub fn allowance(&self, owner: Address, spender: Address) -> u128 { todo!() }
                #[payable]
                pub fn deposit(&mut self) -> Result<(), String> { Ok(()) }
                #[view]
                pub fn pure_fn(x: i64, _y: Vec<u8>) -> bool { true }
                pub fn other(x: u8) {}
                fn helper(&self) {}
            }"#,
        );
        assert_eq!(
            abi_text(&mut item).unwrap(),
            "fn name() -> string view\n\
             fn total_supply() -> u128 view\n\
             fn mint(address to, u128 amount)\n\
             fn transfer(address to, u128 amount) -> bool\n\
             fn approve(address spender, u128 amount) -> bool\n\
             fn allowance(address owner, address spender) -> u128 view\n\
             fn deposit()\n\
             fn pure_fn(i64 x, bytes y) -> bool view\n\
             fn other(u8 x)\n"
        );
    }

    #[test]
    fn expansion_has_selector_arms_and_abi() {
        let item =
            parse("impl Fib { pub fn fib(&self, n: u64) -> u64 { n } pub fn reset(&mut self) {} }");
        let out = expand(TokenStream::new(), item).unwrap().to_string();
        let sel = abi::selector("fib(u64)");
        assert!(out.contains(&format!(
            "[{}u8 , {}u8 , {}u8 , {}u8]",
            sel[0], sel[1], sel[2], sel[3]
        )));
        assert!(out.contains("x64vm.abi"));
        // Only the state-changing function checks that no value was sent.
        assert_eq!(out.matches("not_payable").count(), 1);
        // The ABI bytes literal.
        assert!(
            out.contains(r#"b"fn fib(u64 n) -> u64 view\nfn reset()\n""#),
            "{out}"
        );
    }

    #[test]
    fn rejections() {
        let bad = [
            (
                "impl T { pub fn f(&self, x: f64) {} }",
                "unsupported ABI type",
            ),
            ("impl T { pub fn f(self) {} }", "`&self`"),
            ("impl T { pub fn f<X>(&self) {} }", "generic"),
            ("impl T { #[view] pub fn f(&mut self) {} }", "`#[view]`"),
            ("impl T { #[payable] pub fn f(&self) {} }", "payable"),
            (
                "impl T { #[view] fn f(&self) {} pub fn g(&self) {} }",
                "only applies",
            ),
            ("impl T { fn f(&self) {} }", "at least one"),
            ("impl X for T { pub fn f(&self) {} }", "inherent"),
        ];
        for (src, want) in bad {
            let err = expand(TokenStream::new(), parse(src))
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{src}: {err}");
        }
    }
}
