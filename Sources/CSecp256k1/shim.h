#include <secp256k1.h>
#include <secp256k1_recovery.h>

// Flag macros built from other macros do not import into Swift; these constants carry their values.
static const unsigned int arena_secp256k1_context_none = SECP256K1_CONTEXT_NONE;
static const unsigned int arena_secp256k1_ec_uncompressed = SECP256K1_EC_UNCOMPRESSED;
