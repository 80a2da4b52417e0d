<?php

declare(strict_types=1);

/*
 * Refusals and misuse through Cohort\Engine: each status family as its exception class, NUL
 * bytes and invalid UTF-8 in arguments, the input limit, double close and use after close, and a
 * panic inside the library.
 */

require __DIR__ . '/harness.php';

use Cohort\Engine;
use Cohort\Exception as E;
use Cohort\Library;
use Cohort\Status;

$config = fixture("max_pending_invites = 3\n");
$c = Engine::create($config);
$owner = 'owner@acme.example';
$c->upsertAccount('1042', 'Acme Ltd', $owner);
$c->upsertUser('u@acme.example', 'Uma');
$first = $c->invite($owner, '1042', 'x@acme.example', 'all');
$forUma = $c->invite($owner, '1042', 'u@acme.example', ['tickets']);

// Every exception is a CohortException carrying the status and its name.
$e = T::throws(E\NotFoundException::class, fn () => $c->members('9999'), 'unknown account');
T::eq(Status::NOT_FOUND, $e?->getStatus(), 'status');
T::eq('not_found', $e?->getStatusName(), 'status name');
T::eq('account 9999 not found', $e?->getMessage(), 'specific message');
T::ok($e instanceof E\CohortException, 'base class');
T::throws(E\AccessDeniedException::class, fn () => $c->invite('x@acme.example', '1042', 'y@acme.example', 'all'), 'not the owner');
$e = T::throws(E\ConflictException::class, fn () => $c->invite($owner, '1042', 'x@acme.example', 'all'), 'pending exists');
T::ok(str_contains($e?->getMessage() ?? '', "invite {$first['invite']['id']} to x@acme.example is already pending"), 'names the invite');
T::eq(Status::PENDING_INVITE_EXISTS, $e?->getStatus(), 'pending exists status');
$c->invite($owner, '1042', 'y@acme.example', ['tickets']);
T::throws(E\LimitException::class, fn () => $c->invite($owner, '1042', 'w@acme.example', 'all'), 'pending cap');
T::throws(E\OwnerProtectedException::class, fn () => $c->revoke($owner, '1042', $owner), 'owner protected');
T::throws(E\EmailMismatchException::class, fn () => $c->accept($first['token'], $owner), 'email mismatch');
T::throws(E\ConflictException::class, fn () => $c->acceptRegister($forUma['token'], 'u@acme.example', 'Uma'), 'user exists');
T::eq(true, $c->inspect($forUma['token'])['valid'], 'still pending after the refusal');
$c->acceptRegister($first['token'], 'x@acme.example', 'X');
$members = $c->members('1042');
$e = T::throws(E\InvalidTokenException::class, fn () => $c->accept($first['token'], 'x@acme.example'), 'already used');
T::eq('already_used', $e?->getReason(), 'token reason');
$e = T::throws(E\InvalidTokenException::class, fn () => $c->verifyToken($first['token'] . 'A'), 'tampered');
T::ok(in_array($e?->getReason(), ['bad_signature', 'non_canonical', 'malformed'], true), 'tampered reason: ' . $e?->getReason());
$e = T::throws(E\InvalidTokenException::class, fn () => $c->accept('nonsense', 'x@acme.example'), 'garbage token');
$z = $c->pending('1042')[0];
$c->cancel($owner, $z['id']);
T::throws(E\InviteNotOpenException::class, fn () => $c->cancel($owner, $z['id']), 'cancel twice');
$e = T::throws(E\InvalidInputException::class, fn () => $c->invite($owner, '1042', 'v@acme.example', ['invoices', 'billing']), 'unknown key');
T::ok(str_contains($e?->getMessage() ?? '', 'billing') && str_contains($e?->getMessage() ?? '', 'invoices'), 'lists valid keys');
T::eq(Status::UNKNOWN_PERMISSION, $e?->getStatus(), 'unknown permission status');
T::throws(E\InvalidInputException::class, fn () => $c->invite($owner, '1042', 'v@acme.example', []), 'empty set');
T::throws(E\InvalidInputException::class, fn () => $c->invite($owner, '1042', 'not an email', 'all'), 'bad email');
T::throws(E\InvalidInputException::class, fn () => $c->check('1042', $owner, 'billing'), 'check with an unknown key');
T::throws(E\InvalidInputException::class, fn () => $c->invite($owner, '1042', 'v@acme.example', 'all', -3), 'negative ttl');

// NUL bytes and invalid UTF-8 reach the library intact (PHP strings carry their length).
$e = T::throws(E\InvalidInputException::class, fn () => $c->user("x@acme.example\0evil"), 'NUL in an email');
T::eq(Status::INTERIOR_NUL, $e?->getStatus(), 'interior NUL status');
T::ok(str_contains($e?->getMessage() ?? '', 'offset 14'), 'NUL offset: ' . $e?->getMessage());
$e = T::throws(E\InvalidInputException::class, fn () => $c->upsertUser('q@acme.example', "Q\0"), 'NUL in a name');
T::eq(Status::INTERIOR_NUL, $e?->getStatus(), 'NUL in a name status');
$e = T::throws(E\InvalidInputException::class, fn () => $c->inspect("cohort1.k1.\0"), 'NUL in a token');
T::eq(Status::INTERIOR_NUL, $e?->getStatus(), 'NUL in a token status');
$e = T::throws(E\InvalidInputException::class, fn () => $c->upsertUser('q@acme.example', "Caf\xc3"), 'invalid UTF-8 name');
T::eq(Status::INVALID_UTF8, $e?->getStatus(), 'invalid UTF-8 status');
$e = T::throws(E\InvalidInputException::class, fn () => $c->members("10\xff42"), 'invalid UTF-8 account');
T::eq(Status::INVALID_UTF8, $e?->getStatus(), 'invalid UTF-8 account status');
$e = T::throws(E\InvalidInputException::class, fn () => $c->invite($owner, '1042', 'v@acme.example', ["tick\xffets"]), 'invalid UTF-8 key');
T::eq(Status::INVALID_UTF8, $e?->getStatus(), 'invalid UTF-8 key status');
T::eq(false, $c->check('1042', "nobody@acme.example", 'invoices'), 'still fine afterwards');

// The input limit.
T::eq(1 << 20, Engine::inputLimit(), 'default limit 1 MiB');
$e = T::throws(E\InvalidInputException::class, fn () => $c->inspect(str_repeat('a', (1 << 20) + 1)), 'over 1 MiB');
T::eq(Status::INPUT_TOO_LARGE, $e?->getStatus(), 'too large status');
Engine::setInputLimit(8);
T::throws(E\InvalidInputException::class, fn () => $c->user('x@acme.example'), 'over a small limit');
T::throws(E\InvalidInputException::class, fn () => Engine::setInputLimit(0), 'zero limit refused');
Engine::setInputLimit(1 << 20);
T::eq('x@acme.example', $c->user('x@acme.example')['email'], 'limit restored');

// Config and storage failures at open.
T::throws(E\StorageException::class, fn () => Engine::open(dirname($config) . '/missing.toml'), 'missing config file');
file_put_contents(dirname($config) . '/bad.toml', "bind_emails = true\n");
$e = T::throws(E\ConfigException::class, fn () => Engine::open(dirname($config) . '/bad.toml'), 'bad setting');
T::ok(str_contains($e?->getMessage() ?? '', 'bind_emails'), 'names the setting');
T::throws(E\InvalidInputException::class, fn () => Engine::open($config . "\0"), 'NUL in the config path');

// Nothing above changed the table.
T::eq($members, $c->members('1042'), 'refusals wrote nothing');

// A panic inside the library is a status, and the library keeps working.
$lib = getenv('COHORT_LIBRARY') ?: dirname(__DIR__, 3) . '/target/release/libcohort.so';
$panic = FFI::cdef('int32_t cohort_test_panic(void);', $lib);
$status = $panic->cohort_test_panic();
T::eq(Status::PANIC, $status, 'panic status');
$m = Library::ffi()->new('char *');
Library::ffi()->cohort_error_message(FFI::addr($m));
$msg = FFI::string($m);
Library::ffi()->cohort_string_free($m);
T::ok(str_contains($msg, 'cohort_test_panic'), "panic message: $msg");
T::ok(Status::exception($status, $msg) instanceof E\InternalException, 'panic maps to InternalException');
T::eq(true, $c->check('1042', $owner, 'invoices'), 'usable after a panic');

// Double close and use after close: ClosedException, never a crash.
$d = Engine::open($config);
$d->close();
$e = T::throws(E\ClosedException::class, fn () => $d->close(), 'double close');
T::eq(Status::CLOSED_HANDLE, $e?->getStatus(), 'closed status');
T::throws(E\ClosedException::class, fn () => $d->members('1042'), 'use after close');
T::throws(E\ClosedException::class, fn () => $d->check('1042', $owner, 'invoices'), 'check after close');
unset($d); // __destruct must not close again
T::eq(true, $c->check('1042', $owner, 'invoices'), 'the other engine is unaffected');

// Unknown statuses never escape as something else.
T::ok(Status::exception(12345, '') instanceof E\InternalException, 'unknown status');
T::eq('unknown', Status::name(12345), 'unknown name');

T::done();
