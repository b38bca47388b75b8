import ArenaAdapters
import ArenaCore
import ArgumentParser
import Foundation
import Shared

/// `engine hyperliquid`: operator tools for the Hyperliquid venue.
struct HyperliquidCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hyperliquid",
        abstract: "Operator tools for the Hyperliquid venue.",
        subcommands: [Sign.self]
    )

    /// Signs an action offline and prints what would be sent, to compare with another tool when the exchange
    /// rejects a signature. Only allow-listed action types are accepted; nothing is sent anywhere.
    struct Sign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sign",
            abstract:
                "Print the connection id, digest, signature and request body of an action (key from HYPERLIQUID_PRIVATE_KEY)."
        )

        @Option(
            name: .long,
            help:
                "The action as JSON, in the SDK's key order (e.g. '{\"type\":\"cancel\",\"cancels\":[{\"a\":0,\"o\":1}]}')."
        )
        var action: String

        @Option(name: .long, help: "Nonce (default: now in milliseconds).")
        var nonce: UInt64?

        @Option(name: .long, help: "Vault or sub-account address.")
        var vaultAddress: String?

        @Option(name: .long, help: "expiresAfter, Unix milliseconds.")
        var expiresAfter: UInt64?

        @Flag(name: .long, help: "Sign for testnet (phantom agent source \"b\").")
        var testnet = false

        func run() async throws {
            func fail(_ message: String) -> ExitCode {
                FileHandle.standardError.write(Data("engine hyperliquid sign: \(message)\n".utf8))
                return ExitCode(1)
            }
            guard let key = ProcessInfo.processInfo.environment["HYPERLIQUID_PRIVATE_KEY"], !key.isEmpty else {
                throw fail("HYPERLIQUID_PRIVATE_KEY is not set")
            }
            let signer: HyperliquidSigner
            do {
                signer = try HyperliquidSigner(privateKeyHex: key)
            } catch {
                throw fail("HYPERLIQUID_PRIVATE_KEY: \(error)")
            }
            var parser = OrderedJSON.Parser(Array(action.utf8))
            let json: OrderedJSON
            do {
                json = try parser.parseDocument()
            } catch {
                throw fail("--action is not valid JSON")
            }
            let typed: HyperliquidAction
            do {
                typed = try HyperliquidAction(json: json)
            } catch {
                throw fail("\(error)")
            }
            // The signed bytes are the SDK's order; say so when the input was written in another.
            if let given = try? json.messagePack().encoded(), given != typed.wire.encoded() {
                FileHandle.standardError.write(
                    Data(
                        "engine hyperliquid sign: note: the action was re-ordered to the SDK's key order (signed as shown below)\n"
                            .utf8
                    )
                )
            }
            let signed: HyperliquidSigner.SignedAction
            do {
                signed = try signer.sign(
                    typed,
                    nonce: nonce ?? UInt64(WallClock().now()),
                    vaultAddress: vaultAddress,
                    expiresAfter: expiresAfter,
                    isMainnet: !testnet
                )
            } catch {
                throw fail("\(error)")
            }
            print("signer: \(signer.address)")
            print("network: \(testnet ? "testnet" : "mainnet")")
            print("action_msgpack: \(Hex.encode(typed.wire.encoded()))")
            print("connection_id: 0x\(Hex.encode(signed.connectionID))")
            print("digest: 0x\(Hex.encode(signed.digest))")
            print(
                #"signature: {"r":"\#(signed.signature.rHex)","s":"\#(signed.signature.sHex)","v":\#(signed.signature.v)}"#
            )
            print("body: \(signed.requestBody)")
        }
    }
}
