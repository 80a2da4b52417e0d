<?php

declare(strict_types=1);

// User Management (seeds 000, 002): the account's users, its pending invites, and the
// invite form. Every action is checked here (the `users` permission, asked of Cohort) and again
// by Cohort itself; hiding a button is never what protects an action.

namespace Panel;

use Cohort\Exception\CohortException;

$acct = require_user_manager('User Management');
$id = $acct['account_id'];
$me = (string) me();
$c = cohort();

/** The invite $inviteId if it belongs to this account (else a 404). */
$ownInvite = static function (int $inviteId) use ($c, $id): array {
    try {
        $inv = $c->inviteById($inviteId);
    } catch (\Cohort\Exception\NotFoundException) {
        $inv = null;
    }
    if ($inv === null || $inv['account_id'] !== $id) {
        throw new Http(404, 'There is no such invite on this account.', 'User Management');
    }
    return $inv;
};

if (is_post()) {
    try {
        switch (post('action')) {
            case 'invite':
                $issued = $c->invite($me, $id, post('email'), posted_permissions(), posted_ttl());
                flash(...mail_invite($issued));
                break;
            case 'resend':
                $inv = $ownInvite((int) post('invite'));
                flash(...mail_invite($c->resend($me, $inv['id'])));
                break;
            case 'cancel':
                $inv = $ownInvite((int) post('invite'));
                $c->cancel($me, $inv['id']);
                flash('ok', 'The invite to ' . $inv['email'] . ' was cancelled; its link no longer works.');
                break;
            default:
                throw new Http(400, 'Unknown action.', 'User Management');
        }
    } catch (CohortException $e) {
        flash('error', refusal($e));
    }
    redirect('/users');
}

$members = $c->members($id);
$pending = $c->pending($id);
ob_start();
?>
<p class="lead">Invite users to help manage <?= h($acct['account_name']) ?>, manage the rights of its users,
and remove users. Users keep their own login; access to this account is what you grant here.</p>
<div class="table-wrap">
<table id="users">
<caption>Users</caption>
<thead><tr><th>Email</th><th>Name</th><th>Role</th><th>Permissions</th><th>Last Login</th><th>2FA</th><th>Actions</th></tr></thead>
<tbody>
<?php foreach ($members as $m) { $owner = $m['role'] === 'owner'; ?>
<tr>
<td data-label="Email"><?= h($m['email']) ?><?= $m['email'] === $me ? ' <span class="tag">you</span>' : '' ?></td>
<td data-label="Name"><?= h($m['name']) ?></td>
<td data-label="Role"><?= $owner ? 'Owner' : 'Member' ?></td>
<td data-label="Permissions"><?= h(describe_permissions($m['permissions'])) ?></td>
<td data-label="Last Login"><?= h(fmt_time($m['last_login'])) ?></td>
<td data-label="2FA"><?= $m['two_factor'] ? 'On' : 'Off' ?></td>
<td data-label="Actions" class="actions"><?php
    if (!$owner && $m['email'] !== $me) {
        echo link_button('/users/permissions', 'Manage Permissions', ['email' => $m['email']]);
        echo link_button('/users/remove', 'Remove Access', ['email' => $m['email']], 'danger');
    } else {
        echo '<span class="muted">—</span>';
    }
?></td>
</tr>
<?php } ?>
</tbody>
</table>
</div>

<h2>Pending Invites</h2>
<?php if ($pending === []) { ?>
<p class="muted" id="no-pending">No pending invites.</p>
<?php } else { ?>
<div class="table-wrap">
<table id="pending">
<thead><tr><th>Email</th><th>Permissions</th><th>Sent</th><th>Expires</th><th>Status</th><th>Actions</th></tr></thead>
<tbody>
<?php foreach ($pending as $p) { ?>
<tr>
<td data-label="Email"><?= h($p['email']) ?></td>
<td data-label="Permissions"><?= h(describe_permissions($p['permissions'])) ?></td>
<td data-label="Sent"><?= h(fmt_time($p['last_sent_at'] ?? $p['created_at'])) ?><?= $p['times_sent'] > 1 ? ' (' . (int) $p['times_sent'] . '×)' : '' ?></td>
<td data-label="Expires"><?= h(fmt_time($p['expires_at'])) ?></td>
<td data-label="Status"><span class="status <?= h($p['status']) ?>"><?= h($p['status']) ?></span></td>
<td data-label="Actions" class="actions"><?= button_form('/users', 'Resend', ['action' => 'resend', 'invite' => $p['id']]) ?><?= button_form('/users', 'Cancel', ['action' => 'cancel', 'invite' => $p['id']], 'danger') ?></td>
</tr>
<?php } ?>
</tbody>
</table>
</div>
<?php } ?>

<h2>Invite New User</h2>
<form method="post" action="/users" class="card" id="invite">
<?= csrf_field() ?>
<input type="hidden" name="action" value="invite">
<label for="invite-email">Email Address</label>
<input type="email" name="email" id="invite-email" required autocomplete="off">
<?= permission_fieldset('all') ?>
<label for="invite-ttl">Link valid for</label>
<select name="ttl" id="invite-ttl">
<?php foreach (ttl_choices() as $seconds => $words) { ?>
<option value="<?= (int) $seconds ?>"><?= h($words) ?></option>
<?php } ?>
</select>
<button type="submit">Send Invite</button>
</form>
<?php
render('User Management', (string) ob_get_clean());
