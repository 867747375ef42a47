//! Pure helpers shared by the macros: Rust type → ABI type name, canonical
//! signatures, selectors and topics, and the lines of the `.x64vm.abi` text
//! (`docs/abi.md`, "Call encoding" and "ABI description").

use sha3::{Digest, Keccak256};
use syn::{GenericArgument, PathArguments, Type};

/// keccak256 of `bytes`.
pub(crate) fn keccak256(bytes: &[u8]) -> [u8; 32] {
    Keccak256::digest(bytes).into()
}

/// The 4-byte selector of a canonical signature such as `transfer(address,u128)`.
pub(crate) fn selector(signature: &str) -> [u8; 4] {
    let h = keccak256(signature.as_bytes());
    [h[0], h[1], h[2], h[3]]
}

/// The ABI type of a Rust parameter, return or field type.
///
/// Recognised by the last path segment, so `u128`, `x64vm_sdk::Address` and
/// `alloc::string::String` all work; type aliases do not (the macro only sees
/// the tokens).
pub(crate) fn abi_type(ty: &Type) -> syn::Result<&'static str> {
    const SCALARS: [&str; 11] = [
        "u8", "u16", "u32", "u64", "u128", "i8", "i16", "i32", "i64", "i128", "bool",
    ];
    let unsupported = || {
        syn::Error::new_spanned(
            ty,
            "unsupported ABI type: use u8..u128, i8..i128, bool, Vec<u8> (bytes), \
             String (string) or Address (address)",
        )
    };
    let Type::Path(p) = ty else {
        if let Type::Paren(inner) = ty {
            return abi_type(&inner.elem);
        }
        return Err(unsupported());
    };
    if p.qself.is_some() {
        return Err(unsupported());
    }
    let Some(last) = p.path.segments.last() else {
        return Err(unsupported());
    };
    let name = last.ident.to_string();
    match (&last.arguments, name.as_str()) {
        (PathArguments::None, n) => {
            if let Some(s) = SCALARS.iter().find(|s| **s == n) {
                Ok(s)
            } else if n == "String" {
                Ok("string")
            } else if n == "Address" {
                Ok("address")
            } else {
                Err(unsupported())
            }
        }
        (PathArguments::AngleBracketed(args), "Vec") => match args.args.first() {
            Some(GenericArgument::Type(Type::Path(inner)))
                if args.args.len() == 1 && inner.path.is_ident("u8") =>
            {
                Ok("bytes")
            }
            _ => Err(unsupported()),
        },
        _ => Err(unsupported()),
    }
}

/// `true` for `()`.
pub(crate) fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(t) if t.elems.is_empty())
}

/// For `Result<T, E>` (by last path segment), `T`.
pub(crate) fn result_ok_type(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    if args.args.len() != 2 {
        return None;
    }
    match args.args.first()? {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

/// One parameter or field: its ABI type and (optional) name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Param {
    pub(crate) ty: &'static str,
    pub(crate) name: Option<String>,
}

/// `name(t1,t2)`: the canonical signature hashed into selectors and topics.
pub(crate) fn signature(name: &str, params: &[Param]) -> String {
    let types: Vec<&str> = params.iter().map(|p| p.ty).collect();
    format!("{name}({})", types.join(","))
}

fn param_list(params: &[Param]) -> String {
    params
        .iter()
        .map(|p| match &p.name {
            Some(n) => format!("{} {n}", p.ty),
            None => p.ty.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `fn NAME(TYPE PARAM, ...) [-> TYPE] [view]`.
pub(crate) fn fn_line(name: &str, params: &[Param], ret: Option<&str>, view: bool) -> String {
    let mut s = format!("fn {name}({})", param_list(params));
    if let Some(r) = ret {
        s.push_str(" -> ");
        s.push_str(r);
    }
    if view {
        s.push_str(" view");
    }
    s
}

/// `event NAME(TYPE FIELD, ...)`.
pub(crate) fn event_line(name: &str, fields: &[Param]) -> String {
    format!("event {name}({})", param_list(fields))
}

/// The name a parameter pattern binds, if it is a plain identifier
/// (`x`, `mut x`; a leading `_` is dropped so unused parameters read well).
pub(crate) fn pat_name(pat: &syn::Pat) -> Option<String> {
    match pat {
        syn::Pat::Ident(p) => {
            let n = p.ident.to_string();
            let n = n.trim_start_matches('_');
            (!n.is_empty()).then(|| n.to_string())
        }
        syn::Pat::Type(t) => pat_name(&t.pat),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(s: &str) -> Type {
        syn::parse_str(s).unwrap()
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn keccak_is_the_original_keccak_not_sha3() {
        // The empty-input digest of Keccak-256 (SHA3-256 would be a7ffc6f8...).
        assert_eq!(
            hex(&keccak256(b"")),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
    }

    #[test]
    fn selectors_match_known_values() {
        // Ethereum's ERC-20 selectors, computed with the same keccak256 rule.
        assert_eq!(hex(&selector("transfer(address,uint256)")), "a9059cbb");
        assert_eq!(hex(&selector("balanceOf(address)")), "70a08231");
        // Ours are the first 4 bytes of the full hash.
        let sig = "transfer(address,u128)";
        assert_eq!(selector(sig), keccak256(sig.as_bytes())[..4]);
    }

    #[test]
    fn types_map_to_abi_names() {
        for (rust, abi) in [
            ("u8", "u8"),
            ("u16", "u16"),
            ("u32", "u32"),
            ("u64", "u64"),
            ("u128", "u128"),
            ("i8", "i8"),
            ("i16", "i16"),
            ("i32", "i32"),
            ("i64", "i64"),
            ("i128", "i128"),
            ("bool", "bool"),
            ("String", "string"),
            ("alloc::string::String", "string"),
            ("Vec<u8>", "bytes"),
            ("alloc::vec::Vec<u8>", "bytes"),
            ("Address", "address"),
            ("x64vm_sdk::Address", "address"),
        ] {
            assert_eq!(abi_type(&ty(rust)).unwrap(), abi, "{rust}");
        }
        for bad in [
            "Vec<u16>",
            "&str",
            "[u8; 32]",
            "f64",
            "Option<u8>",
            "(u8, u8)",
            "usize",
        ] {
            assert!(abi_type(&ty(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn result_and_unit() {
        assert!(is_unit(&ty("()")));
        assert!(!is_unit(&ty("u8")));
        let r = ty("Result<u128, &'static str>");
        assert_eq!(abi_type(result_ok_type(&r).unwrap()).unwrap(), "u128");
        assert!(result_ok_type(&ty("u128")).is_none());
    }

    #[test]
    fn abi_lines() {
        let p = |ty, name: &str| Param {
            ty,
            name: Some(name.to_string()),
        };
        let params = [p("address", "to"), p("u128", "amount")];
        assert_eq!(signature("transfer", &params), "transfer(address,u128)");
        assert_eq!(
            fn_line("transfer", &params, Some("bool"), false),
            "fn transfer(address to, u128 amount) -> bool"
        );
        assert_eq!(
            fn_line("balance_of", &[p("address", "owner")], Some("u128"), true),
            "fn balance_of(address owner) -> u128 view"
        );
        assert_eq!(fn_line("reset", &[], None, false), "fn reset()");
        assert_eq!(signature("reset", &[]), "reset()");
        let unnamed = [Param {
            ty: "u64",
            name: None,
        }];
        assert_eq!(fn_line("f", &unnamed, None, true), "fn f(u64) view");
        let fields = [
            p("address", "from"),
            p("address", "to"),
            p("u128", "amount"),
        ];
        assert_eq!(
            event_line("Transfer", &fields),
            "event Transfer(address from, address to, u128 amount)"
        );
        assert_eq!(
            signature("Transfer", &fields),
            "Transfer(address,address,u128)"
        );
    }

    #[test]
    fn pattern_names() {
        let pat = |s: &str| -> syn::Pat {
            let f: syn::ItemFn = syn::parse_str(&format!("fn f({s}: u8) {{}}")).unwrap();
            match f.sig.inputs.first().unwrap() {
                syn::FnArg::Typed(t) => (*t.pat).clone(),
                syn::FnArg::Receiver(_) => unreachable!(),
            }
        };
        assert_eq!(pat_name(&pat("x")).as_deref(), Some("x"));
        assert_eq!(pat_name(&pat("mut amount")).as_deref(), Some("amount"));
        assert_eq!(pat_name(&pat("_unused")).as_deref(), Some("unused"));
        assert_eq!(pat_name(&pat("_")), None);
    }
}
