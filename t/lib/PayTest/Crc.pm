package PayTest::Crc;

# CRC-32 (zlib's: reflected 0xEDB88320, init and final XOR 0xFFFFFFFF) and
# how to forge it, for the test that a PayPal delivery's headers cannot
# carry another body.  Core Perl only (64-bit integers).
#
#   use PayTest::Crc;
#
#   PayTest::Crc::crc32("123456789");            # 0xCBF43926
#
#   # '{' . 48 spaces and tabs . '"id":"WH-X",...}', with the CRC-32 of
#   # $genuine: valid JSON, another event, the same signed message
#   my $forged = PayTest::Crc::forge('{', substr($other, 1),
#                                    PayTest::Crc::crc32($genuine));
#
# forge($prefix, $suffix, $target[, $n]) returns $prefix, then $n
# (default 48) bytes each a space or a tab, then $suffix, with CRC-32
# $target.  CRC-32 is affine over GF(2): for messages of one length,
# crc(m ^ d) = crc(m) ^ L(d) with L linear.  Each padding byte turned from
# a space into a tab flips the CRC by a fixed 32-bit vector; a subset of
# those vectors that XORs to crc(all spaces) ^ $target is found by
# Gaussian elimination, in microseconds.  48 positions give 32
# independent vectors (dies otherwise, and if the result is wrong).

use strict;
use warnings;

my @TABLE;

sub crc32 {
    my ($data) = @_;

    if (!@TABLE) {
        for my $n (0 .. 255) {
            my $c = $n;
            for (1 .. 8) {
                $c = ($c & 1) ? (0xEDB88320 ^ ($c >> 1)) : ($c >> 1);
            }
            $TABLE[$n] = $c;
        }
    }

    my $crc = 0xFFFFFFFF;
    for my $b (unpack 'C*', $data) {
        $crc = $TABLE[($crc ^ $b) & 0xFF] ^ ($crc >> 8);
    }

    return ($crc ^ 0xFFFFFFFF) & 0xFFFFFFFF;
}

sub forge {
    my ($prefix, $suffix, $target, $n) = @_;
    $n //= 48;
    die "PayTest::Crc::forge: at most 64 padding bytes\n" if $n > 64;

    my $base = $prefix . (' ' x $n) . $suffix;
    my $c0 = crc32($base);

    # basis{pivot bit} = [vector, mask of the padding bytes it combines]
    my %basis;

    for my $i (0 .. $n - 1) {
        my $m = $base;
        substr($m, length($prefix) + $i, 1) = "\t";

        my ($v, $mask) = (crc32($m) ^ $c0, 1 << $i);

        for my $bit (reverse 0 .. 31) {
            next unless ($v >> $bit) & 1;
            if (!$basis{$bit}) {
                $basis{$bit} = [$v, $mask];
                last;
            }
            $v ^= $basis{$bit}[0];
            $mask ^= $basis{$bit}[1];
        }
    }

    my ($v, $mask) = (($c0 ^ $target) & 0xFFFFFFFF, 0);

    for my $bit (reverse 0 .. 31) {
        next unless ($v >> $bit) & 1;
        die "PayTest::Crc::forge: no solution with $n bytes\n"
            unless $basis{$bit};
        $v ^= $basis{$bit}[0];
        $mask ^= $basis{$bit}[1];
    }

    my $pad = join '', map { (($mask >> $_) & 1) ? "\t" : ' ' } 0 .. $n - 1;
    my $out = $prefix . $pad . $suffix;

    die "PayTest::Crc::forge: wrong result\n" unless crc32($out) == $target;

    return $out;
}

1;
