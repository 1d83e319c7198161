// libxcrypt for Swift: the password hashes (yescrypt) behind accounts.
#ifndef CCRYPT_SHIM_H
#define CCRYPT_SHIM_H
#include <crypt.h>
#endif
