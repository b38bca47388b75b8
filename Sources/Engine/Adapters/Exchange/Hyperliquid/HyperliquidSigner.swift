import ArenaCore
import CSecp256k1
import Foundation

/// Signs L1 actions exactly as the official Python SDK does (PROTOCOL.md §6): msgpack of the action, then the
/// nonce (u64 big-endian), the vault flag and address, and `expiresAfter` with its 0x00 marker → Keccak-256
/// (the connection id) → the EIP-712 phantom agent (`source` "a" on mainnet, "b" on testnet) → a recoverable
/// secp256k1 signature through libsecp256k1 with its default RFC 6979 nonce → `{r, s, v}` with r and s as
/// minimal hex, v = 27 + recovery id. Only a `HyperliquidAction` can be signed.
///
/// The key is held in memory only, never printed (`description` shows the address).
package final class HyperliquidSigner: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: every stored property is immutable after init, and libsecp256k1 allows concurrent signing with
    // one context (the context is only read).
    private let context: OpaquePointer
    private let secretKey: [UInt8]
    /// The signer's address, lowercase `0x…` (an agent/API wallet's when an agent key signs).
    package let address: String

    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    package struct Signature: Sendable, Equatable {
        package var r: [UInt8]
        package var s: [UInt8]
        /// 27 or 28.
        package var v: Int

        /// The SDK's form: `eth_utils.to_hex` of each integer, no zero padding.
        package var rHex: String { HyperliquidSigner.minimalHex(r) }
        package var sHex: String { HyperliquidSigner.minimalHex(s) }
    }

    /// A signed action and the body to POST to `/exchange`.
    package struct SignedAction: Sendable {
        package let action: HyperliquidAction
        package let nonce: UInt64
        package let vaultAddress: String?
        package let expiresAfter: UInt64?
        package let connectionID: [UInt8]
        package let digest: [UInt8]
        package let signature: Signature

        /// Keys in the SDK's order: action, nonce, signature, vaultAddress, expiresAfter (nulls included).
        package var requestBody: String {
            let vault = vaultAddress.map { MessagePackValue.quoted($0.lowercased()) } ?? "null"
            let expires = expiresAfter.map(String.init) ?? "null"
            return
                #"{"action":\#(action.wire.json),"nonce":\#(nonce),"signature":{"r":"\#(signature.rHex)","s":"\#(signature.sHex)","v":\#(signature.v)},"vaultAddress":\#(vault),"expiresAfter":\#(expires)}"#
        }
    }

    package init(privateKeyHex: String) throws {
        guard let key = Self.bytes(hex: privateKeyHex), key.count == 32 else {
            throw Failure(description: "the private key is not 32 bytes of hex")
        }
        guard let context = secp256k1_context_create(arena_secp256k1_context_none) else {
            throw Failure(description: "libsecp256k1 could not create a context")
        }
        guard secp256k1_ec_seckey_verify(context, key) == 1 else {
            secp256k1_context_destroy(context)
            throw Failure(description: "the private key is not a valid secp256k1 key")
        }
        var publicKey = secp256k1_pubkey()
        var serialized = [UInt8](repeating: 0, count: 65)
        var length = 65
        guard secp256k1_ec_pubkey_create(context, &publicKey, key) == 1,
            secp256k1_ec_pubkey_serialize(context, &serialized, &length, &publicKey, arena_secp256k1_ec_uncompressed)
                == 1
        else {
            secp256k1_context_destroy(context)
            throw Failure(description: "libsecp256k1 could not derive the public key")
        }
        self.context = context
        self.secretKey = key
        self.address = "0x" + Hex.encode(Array(Keccak256.hash(serialized[1..<65]).suffix(20)))
    }

    deinit {
        secp256k1_context_destroy(context)
    }

    package var description: String { "HyperliquidSigner(\(address))" }

    package func sign(
        _ action: HyperliquidAction,
        nonce: UInt64,
        vaultAddress: String? = nil,
        expiresAfter: UInt64? = nil,
        isMainnet: Bool
    ) throws -> SignedAction {
        let connectionID = try Self.connectionID(
            action: action,
            nonce: nonce,
            vaultAddress: vaultAddress,
            expiresAfter: expiresAfter
        )
        let digest = Self.digest(connectionID: connectionID, isMainnet: isMainnet)
        return SignedAction(
            action: action,
            nonce: nonce,
            vaultAddress: vaultAddress,
            expiresAfter: expiresAfter,
            connectionID: connectionID,
            digest: digest,
            signature: try sign(digest: digest)
        )
    }

    /// A recoverable signature of a 32-byte digest. Private: the only way to a signature is an allow-listed
    /// `HyperliquidAction`.
    private func sign(digest: [UInt8]) throws -> Signature {
        guard digest.count == 32 else { throw Failure(description: "a digest is 32 bytes") }
        var signature = secp256k1_ecdsa_recoverable_signature()
        guard secp256k1_ecdsa_sign_recoverable(context, &signature, digest, secretKey, nil, nil) == 1 else {
            throw Failure(description: "libsecp256k1 refused to sign")
        }
        var compact = [UInt8](repeating: 0, count: 64)
        var recoveryID: Int32 = 0
        secp256k1_ecdsa_recoverable_signature_serialize_compact(context, &compact, &recoveryID, &signature)
        return Signature(r: Array(compact[0..<32]), s: Array(compact[32..<64]), v: 27 + Int(recoveryID))
    }

    /// The preimage of the connection id (PROTOCOL.md §6.1).
    package static func preimage(
        action: HyperliquidAction,
        nonce: UInt64,
        vaultAddress: String?,
        expiresAfter: UInt64?
    ) throws
        -> [UInt8]
    {
        try preimage(
            actionBytes: action.wire.encoded(),
            nonce: nonce,
            vaultAddress: vaultAddress,
            expiresAfter: expiresAfter
        )
    }

    /// The preimage for already-encoded action bytes (hashing only; nothing is signed here).
    package static func preimage(
        actionBytes: [UInt8],
        nonce: UInt64,
        vaultAddress: String?,
        expiresAfter: UInt64?
    ) throws
        -> [UInt8]
    {
        var bytes = actionBytes
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: nonce >> UInt64(shift)))
        }
        if let vaultAddress {
            guard let vault = Self.bytes(hex: vaultAddress), vault.count == 20 else {
                throw Failure(description: "the vault address is not 20 bytes of hex")
            }
            bytes.append(0x01)
            bytes += vault
        } else {
            bytes.append(0x00)
        }
        if let expiresAfter {
            bytes.append(0x00)
            for shift in stride(from: 56, through: 0, by: -8) {
                bytes.append(UInt8(truncatingIfNeeded: expiresAfter >> UInt64(shift)))
            }
        }
        return bytes
    }

    package static func connectionID(
        action: HyperliquidAction,
        nonce: UInt64,
        vaultAddress: String?,
        expiresAfter: UInt64?
    )
        throws -> [UInt8]
    {
        Keccak256.hash(
            try preimage(action: action, nonce: nonce, vaultAddress: vaultAddress, expiresAfter: expiresAfter)
        )
    }

    package static let domainTypeHash = Keccak256.hash(
        Array("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)".utf8)
    )
    package static let agentTypeHash = Keccak256.hash(Array("Agent(string source,bytes32 connectionId)".utf8))
    /// keccak(typeHash ‖ keccak("Exchange") ‖ keccak("1") ‖ u256(1337) ‖ 32 zero bytes).
    package static let domainSeparator: [UInt8] = {
        var chainID = [UInt8](repeating: 0, count: 32)
        chainID[30] = 0x05
        chainID[31] = 0x39
        return Keccak256.hash(
            domainTypeHash + Keccak256.hash(Array("Exchange".utf8)) + Keccak256.hash(Array("1".utf8)) + chainID
                + [UInt8](repeating: 0, count: 32)
        )
    }()

    package static func structHash(connectionID: [UInt8], isMainnet: Bool) -> [UInt8] {
        Keccak256.hash(agentTypeHash + Keccak256.hash(Array((isMainnet ? "a" : "b").utf8)) + connectionID)
    }

    /// keccak(0x19 0x01 ‖ domainSeparator ‖ structHash).
    package static func digest(connectionID: [UInt8], isMainnet: Bool) -> [UInt8] {
        Keccak256.hash([0x19, 0x01] + domainSeparator + structHash(connectionID: connectionID, isMainnet: isMainnet))
    }

    /// `0x` and the hex of the integer without leading zeros (`0x0` for zero).
    package static func minimalHex(_ bytes: [UInt8]) -> String {
        let digits = Hex.encode(bytes).drop { $0 == "0" }
        return "0x" + (digits.isEmpty ? "0" : digits)
    }

    package static func bytes(hex text: String) -> [UInt8]? {
        var digits = Substring(text)
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
        guard digits.count % 2 == 0 else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(digits.count / 2)
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            guard let byte = UInt8(digits[index..<next], radix: 16) else { return nil }
            result.append(byte)
            index = next
        }
        return result
    }
}
