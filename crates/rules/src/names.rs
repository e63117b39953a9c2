//! Suricata's names for buffers, transforms, protocols and enumerations, mapped to ours.

use crate::ast::{AppName, Buffer, OtherApp, Transform};

/// Sticky-buffer keywords (dot names and their underscore aliases).
pub(crate) fn sticky_buffer(kw: &str) -> Option<Buffer> {
    use Buffer::*;
    Some(match kw {
        "pkt_data" => Payload,
        "file.data" | "file_data" => FileData,
        "http.uri" => HttpUri,
        "http.uri.raw" => HttpUriRaw,
        "http.method" => HttpMethod,
        "http.request_line" | "http_request_line" => HttpRequestLine,
        "http.protocol" | "http_protocol" => HttpProtocol,
        "http.header" => HttpHeader,
        "http.header.raw" => HttpHeaderRaw,
        "http.header_names" | "http_header_names" => HttpHeaderNames,
        "http.cookie" => HttpCookie,
        "http.user_agent" => HttpUserAgent,
        "http.host" => HttpHost,
        "http.host.raw" => HttpHostRaw,
        "http.accept" | "http_accept" => HttpAccept,
        "http.accept_enc" | "http_accept_enc" => HttpAcceptEnc,
        "http.accept_lang" | "http_accept_lang" => HttpAcceptLang,
        "http.connection" | "http_connection" => HttpConnection,
        "http.content_type" | "http_content_type" => HttpContentType,
        "http.content_len" | "http_content_len" => HttpContentLen,
        "http.referer" | "http_referer" => HttpReferer,
        "http.start" | "http_start" => HttpStart,
        "http.server" => HttpServer,
        "http.location" => HttpLocation,
        "http.request_header" => HttpRequestHeader,
        "http.response_header" => HttpResponseHeader,
        "http.request_body" => HttpRequestBody,
        "http.response_body" | "http_response_body" => HttpResponseBody,
        "http.stat_code" => HttpStatCode,
        "http.stat_msg" => HttpStatMsg,
        "http.response_line" | "http_response_line" => HttpResponseLine,
        "dns.query" | "dns_query" => DnsQuery,
        "dns.queries.rrname" => DnsQueriesRrname,
        "dns.answers.rrname" => DnsAnswersRrname,
        "dns.response.rrname" => DnsResponseRrname,
        "tls.sni" | "tls_sni" => TlsSni,
        "tls.cert_subject" | "tls_cert_subject" => TlsCertSubject,
        "tls.cert_issuer" | "tls_cert_issuer" => TlsCertIssuer,
        "tls.cert_serial" | "tls_cert_serial" => TlsCertSerial,
        "tls.cert_fingerprint" | "tls_cert_fingerprint" => TlsCertFingerprint,
        "tls.certs" => TlsCerts,
        "tls.subjectaltname" => TlsSubjectAltName,
        "ja3.hash" | "ja3_hash" => Ja3Hash,
        "ja3.string" | "ja3_string" => Ja3String,
        "ja3s.hash" | "ja3s_hash" => Ja3sHash,
        "ja3s.string" | "ja3s_string" => Ja3sString,
        "ja4.hash" => Ja4Hash,
        _ => return None,
    })
}

/// Legacy content modifiers that move the previous content into a buffer.
pub(crate) fn legacy_modifier(kw: &str) -> Option<Buffer> {
    use Buffer::*;
    Some(match kw {
        "http_uri" => HttpUri,
        "http_raw_uri" => HttpUriRaw,
        "http_header" => HttpHeader,
        "http_raw_header" => HttpHeaderRaw,
        "http_cookie" => HttpCookie,
        "http_method" => HttpMethod,
        "http_stat_code" => HttpStatCode,
        "http_stat_msg" => HttpStatMsg,
        "http_client_body" => HttpRequestBody,
        "http_server_body" => HttpResponseBody,
        "http_host" => HttpHost,
        "http_raw_host" => HttpHostRaw,
        "http_user_agent" => HttpUserAgent,
        _ => return None,
    })
}

/// Transform keywords.
pub(crate) fn transform(kw: &str) -> Option<Transform> {
    use Transform::*;
    Some(match kw {
        "to_lowercase" => ToLowercase,
        "to_uppercase" => ToUppercase,
        "strip_whitespace" => StripWhitespace,
        "compress_whitespace" => CompressWhitespace,
        "url_decode" => UrlDecode,
        "dotprefix" => Dotprefix,
        "to_md5" => ToMd5,
        "to_sha1" => ToSha1,
        "to_sha256" => ToSha256,
        "header_lowercase" => HeaderLowercase,
        "strip_pseudo_headers" => StripPseudoHeaders,
        _ => return None,
    })
}

/// App-layer protocol names (rule header or `app-layer-protocol`), case-insensitive.
pub(crate) fn app_name(name: &str) -> Option<AppName> {
    let lower = name.to_ascii_lowercase();
    Some(match lower.as_str() {
        "http" | "http1" => AppName::Http,
        "dns" => AppName::Dns,
        "tls" | "ssl" => AppName::Tls,
        "ssh" => AppName::Ssh,
        "failed" => AppName::Failed,
        "ftp" | "ftp-data" => AppName::Other(OtherApp::Ftp),
        "smtp" => AppName::Other(OtherApp::Smtp),
        "smb" => AppName::Other(OtherApp::Smb),
        "dcerpc" => AppName::Other(OtherApp::Dcerpc),
        "http2" => AppName::Other(OtherApp::Http2),
        "imap" | "pop3" | "msn" | "jabber" | "modbus" | "dnp3" | "enip" | "cip" | "nfs" | "ntp"
        | "tftp" | "ikev2" | "ike" | "krb5" | "dhcp" | "snmp" | "sip" | "rfb" | "mqtt"
        | "pgsql" | "telnet" | "rdp" | "quic" | "bittorrent-dht" | "websocket" | "ldap"
        | "doh2" | "mdns" | "pop" | "irc" | "template" | "ftps" | "smtps" | "imaps" => {
            AppName::Other(OtherApp::Misc)
        }
        _ => return None,
    })
}

/// IP protocol numbers by name for `ip_proto`.
pub(crate) fn ip_proto(name: &str) -> Option<u64> {
    let lower = name.to_ascii_lowercase();
    Some(match lower.as_str() {
        "hopopt" => 0,
        "icmp" => 1,
        "igmp" => 2,
        "ggp" => 3,
        "ipip" | "ipv4" | "ip-in-ip" => 4,
        "tcp" => 6,
        "egp" => 8,
        "igp" => 9,
        "udp" => 17,
        "ipv6" => 41,
        "ipv6-route" => 43,
        "ipv6-frag" => 44,
        "rsvp" => 46,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "icmpv6" | "ipv6-icmp" => 58,
        "ipv6-nonxt" => 59,
        "ipv6-opts" => 60,
        "eigrp" => 88,
        "ospf" | "ospfigp" => 89,
        "pim" => 103,
        "vrrp" => 112,
        "l2tp" => 115,
        "sctp" => 132,
        _ => return None,
    })
}

/// IPv4 option types for `ipopts` (`None` for `any`).
pub(crate) fn ipopt(name: &str) -> Option<Option<u8>> {
    Some(match name {
        "eol" => Some(0),
        "nop" => Some(1),
        "rr" => Some(7),
        "ts" => Some(68),
        "sec" => Some(130),
        "lsrr" | "lsrre" => Some(131),
        "esec" => Some(133),
        "satid" => Some(136),
        "ssrr" => Some(137),
        "any" => None,
        _ => return None,
    })
}

/// DNS RR type mnemonics for `dns.rrtype`.
pub(crate) fn dns_rrtype(name: &str) -> Option<u64> {
    let upper = name.to_ascii_uppercase();
    Some(match upper.as_str() {
        "A" => 1,
        "NS" => 2,
        "MD" => 3,
        "MF" => 4,
        "CNAME" => 5,
        "SOA" => 6,
        "MB" => 7,
        "MG" => 8,
        "MR" => 9,
        "NULL" => 10,
        "WKS" => 11,
        "PTR" => 12,
        "HINFO" => 13,
        "MINFO" => 14,
        "MX" => 15,
        "TXT" => 16,
        "RP" => 17,
        "AFSDB" => 18,
        "X25" => 19,
        "ISDN" => 20,
        "RT" => 21,
        "NSAP" => 22,
        "NSAPPTR" => 23,
        "SIG" => 24,
        "KEY" => 25,
        "PX" => 26,
        "GPOS" => 27,
        "AAAA" => 28,
        "LOC" => 29,
        "NXT" => 30,
        "SRV" => 33,
        "ATMA" => 34,
        "NAPTR" => 35,
        "KX" => 36,
        "CERT" => 37,
        "A6" => 38,
        "DNAME" => 39,
        "OPT" => 41,
        "APL" => 42,
        "DS" => 43,
        "SSHFP" => 44,
        "IPSECKEY" => 45,
        "RRSIG" => 46,
        "NSEC" => 47,
        "DNSKEY" => 48,
        "DHCID" => 49,
        "NSEC3" => 50,
        "NSEC3PARAM" => 51,
        "TLSA" => 52,
        "HIP" => 55,
        "CDS" => 59,
        "CDNSKEY" => 60,
        "SVCB" => 64,
        "HTTPS" => 65,
        "SPF" => 99,
        "TKEY" => 249,
        "TSIG" => 250,
        "IXFR" => 251,
        "AXFR" => 252,
        "MAILB" => 253,
        "MAILA" => 254,
        "ANY" => 255,
        "URI" => 256,
        "CAA" => 257,
        _ => return None,
    })
}

/// DNS response codes for `dns.rcode`.
pub(crate) fn dns_rcode(name: &str) -> Option<u64> {
    let lower = name.to_ascii_lowercase();
    Some(match lower.as_str() {
        "noerror" => 0,
        "formerr" => 1,
        "servfail" => 2,
        "nxdomain" => 3,
        "notimp" => 4,
        "refused" => 5,
        "yxdomain" => 6,
        "yxrrset" => 7,
        "nxrrset" => 8,
        "notauth" => 9,
        "notzone" => 10,
        _ => return None,
    })
}
