<?php

declare(strict_types=1);

/* The seed story through Cohort\Engine: invites, acceptance, members, permissions, removal. */

require __DIR__ . '/harness.php';

use Cohort\Engine;

$config = fixture();
$c = Engine::create($config);
T::eq(Engine::version(), Cohort\Library::version(), 'version');
T::ok(preg_match('/^\d+\.\d+\.\d+$/', Engine::version()) === 1, 'version looks like x.y.z');

$owner = 'owner@acme.example';
$acct = $c->upsertAccount('1042', 'Acme Ltd', $owner);
T::eq('1042', $acct['id'], 'account id');
T::eq($owner, $acct['owner'], 'account owner');
$dana = $c->upsertUser('Dana@Acme.example', 'Dana Dev', true);
T::eq('dana@acme.example', $dana['email'], 'emails are normalized');
T::eq(true, $dana['two_factor'], '2FA flag');

// Invite with all permissions and with chosen ones.
$all = $c->invite($owner, '1042', 'dana@acme.example', 'all');
T::eq('all', $all['invite']['permissions'], 'all permissions');
T::eq('Acme Ltd has invited you to their account', $all['email']['subject'], 'email subject');
T::ok(str_contains($all['email']['body'], $all['link']), 'the email holds the link');
$chosen = $c->invite($owner, '1042', 'bo@acme.example', ['tickets', 'invoices'], 3600);
T::eq(['invoices', 'tickets'], $chosen['invite']['permissions'], 'chosen permissions, sorted');
T::eq(3600, $chosen['invite']['expires_at'] - $chosen['invite']['created_at'], 'ttl');

$pending = $c->pending('1042');
T::eq(2, count($pending), 'two pending invites');
T::eq(['pending', 'pending'], array_column($pending, 'status'), 'both pending');

// Inspect: Login for Dana, Register for Bo.
$seen = $c->inspect($all['link']);
T::eq(true, $seen['valid'], 'link valid');
T::eq(true, $seen['has_login'], 'Dana has a login');
T::eq('Acme Ltd', $seen['account_name'], 'account name');
T::eq(null, $seen['reason'], 'no reason when valid');
T::eq(false, $c->inspect($chosen['token'])['has_login'], 'Bo must register');
T::eq($chosen['invite']['id'], $c->verifyToken($chosen['token'])['invite_id'], 'verify');

// Accept and register.
$m = $c->accept($all['token'], 'dana@acme.example');
T::eq('member', $m['role'], 'role');
T::eq('all', $m['permissions'], 'permissions from the invite');
$bo = $c->acceptRegister($chosen['link'], 'bo@acme.example', 'Bo Books');
T::eq('Bo Books', $bo['name'], 'registered name');
T::eq($owner, $bo['invited_by'], 'invited by');

$members = $c->members('1042');
$emails = array_column($members, 'email');
T::eq($owner, array_shift($emails), 'owner first');
sort($emails);
T::eq(['bo@acme.example', 'dana@acme.example'], $emails, 'both invitees joined');
T::eq('owner', $members[0]['role'], 'owner first');
T::eq([], $c->pending('1042'), 'nothing pending');

// Last login.
$c->recordLogin('bo@acme.example');
$row = array_values(array_filter($c->members('1042'), fn ($r) => $r['email'] === 'bo@acme.example'))[0];
T::ok(is_int($row['last_login']) && $row['last_login'] > 0, 'last login shows');

// Check and change permissions.
T::eq(true, $c->check('1042', 'bo@acme.example', 'invoices'), 'bo: invoices');
T::eq(false, $c->check('1042', 'bo@acme.example', 'domains'), 'bo: no domains');
T::eq(true, $c->check('1042', $owner, 'orders'), 'owner holds every key');
T::eq(true, $c->check('1042', 'dana@acme.example', 'managedomains'), 'all holds every key');
T::eq(false, $c->check('1042', 'nobody@acme.example', 'invoices'), 'strangers hold nothing');
$changed = $c->setPermissions($owner, '1042', 'bo@acme.example', 'domains,managedomains');
T::eq(['domains', 'managedomains'], $changed['permissions'], 'new permissions');
T::eq(true, $c->check('1042', 'bo@acme.example', 'domains'), 'bo: domains now');
T::eq(false, $c->check('1042', 'bo@acme.example', 'invoices'), 'bo: invoices gone');
T::eq('1042', $c->accountsOf('bo@acme.example')[0]['account_id'], 'account switcher');
T::eq(
    ['profile', 'contacts', 'products', 'manageproducts', 'productsso', 'domains', 'managedomains', 'invoices', 'quotes', 'tickets', 'affiliates', 'emails', 'orders'],
    array_slice(array_column($c->permissions(), 'key'), 0, 13),
    'catalogue: the WHMCS keys first'
);
T::eq('View & Pay Invoices', $c->permissions()[7]['label'], 'labels');

// Remove access: the login stays.
$c->revoke($owner, '1042', 'bo@acme.example');
T::eq(false, $c->check('1042', 'bo@acme.example', 'domains'), 'revoked');
T::eq(2, count($c->members('1042')), 'two left');
T::eq('Bo Books', $c->user('bo@acme.example')['name'], 'the login remains');

// An invite expires, shows as expired, is resent; the old link stops working; cancel; decline.
$short = $c->invite($owner, '1042', 'cy@acme.example', ['emails'], 1);
usleep(1_100_000);
T::eq('expired', $c->inspect($short['token'])['reason'], 'expired link');
T::eq(1, $c->expireDue(), 'expire due');
T::eq('expired', $c->pending('1042')[0]['status'], 'listed as expired');
$resent = $c->resend($owner, $short['invite']['id']);
T::eq('pending', $resent['invite']['status'], 'revived');
T::eq(2, $resent['invite']['times_sent'], 'sent twice');
// Superseded, and past its own expiry: the token's time window is judged first.
T::eq('expired', $c->inspect($short['token'])['reason'], 'old link dead');
T::eq(true, $c->inspect($resent['token'])['valid'], 'new link works');
$third = $c->resend($owner, $short['invite']['id']);
T::eq('superseded', $c->inspect($resent['token'])['reason'], 'an older link in its time window');
T::eq(true, $c->inspect($third['token'])['valid'], 'the newest link works');
$cancelled = $c->cancel($owner, $short['invite']['id']);
T::eq('cancelled', $cancelled['status'], 'cancelled');
T::eq('cancelled', $c->inviteById($short['invite']['id'])['status'], 'stays cancelled');
$d = $c->invite($owner, '1042', 'di@acme.example', ['tickets']);
T::throws(ArgumentCountError::class, fn () => $c->invite($owner, '1042', 'x@acme.example'), 'no default permissions');
T::eq('declined', $c->decline($d['token'])['status'], 'declined');

// Contacts, notification routing, a member leaving.
$ann = $c->addContact($owner, '1042', ['first_name' => 'Ann', 'email' => 'ann@books.example', 'notify' => ['invoice']]);
T::eq('ann@books.example', $ann['email'], 'contact added');
T::eq('Books Ltd', $c->updateContact($owner, $ann['id'], ['company' => 'Books Ltd'])['company'], 'contact updated');
T::eq(['ann@books.example'], array_column($c->contacts('1042'), 'email'), 'contacts');
T::eq('Books Ltd', $c->contact($ann['id'])['company'], 'one contact');
T::eq(['invoice', 'support'], $c->setNotifications('dana@acme.example', '1042', 'dana@acme.example', ['support', 'invoice']), 'own notifications');
T::eq([$owner, 'dana@acme.example', 'ann@books.example'], array_column($c->recipients('1042', 'invoice'), 'email'), 'invoice recipients');
T::eq([$owner], array_column($c->recipients('1042', 'domain'), 'email'), 'domain recipients');
T::eq($ann['id'], $c->deleteContact($owner, $ann['id'])['id'], 'contact deleted');
$c->upsertUser('eve@acme.example', 'Eve');
$e = $c->invite($owner, '1042', 'eve@acme.example', ['tickets']);
$c->accept($e['token'], 'eve@acme.example');
$c->leave('1042', 'eve@acme.example');
T::eq(false, $c->check('1042', 'eve@acme.example', 'tickets'), 'left');
T::ok(in_array('member.leave', array_column($c->auditQuery(['user' => 'eve@acme.example']), 'action'), true), 'audit by user');
T::eq(3, count($c->auditQuery(['account' => '1042', 'limit' => 3])), 'audit limit');

// Transfer ownership; the audit trail tells the story.
T::eq('dana@acme.example', $c->transferOwnership($owner, '1042', 'dana@acme.example')['owner'], 'transfer');
T::eq('dana@acme.example', $c->account('1042')['owner'], 'new owner');
$actions = array_column($c->audit('1042', 0, 1000), 'action');
foreach (['account.create', 'invite.create', 'invite.accept', 'member.permissions', 'member.revoke', 'invite.expire', 'invite.resend', 'invite.cancel', 'invite.decline', 'account.transfer'] as $a) {
    T::ok(in_array($a, $actions, true), "audit has $a");
}

// Everything was stored: a second engine on the same database sees it.
$c->close();
$again = Engine::open($config);
T::eq(['dana@acme.example', 'owner@acme.example'], array_column($again->members('1042'), 'email'), 'persisted, new owner first');
unset($again);

T::done();
