<?php

declare(strict_types=1);

// The account switcher: every account this login can act on (Cohort's list), and switching.

namespace Panel;

$list = my_accounts();
if (is_post()) {
    $want = post('account');
    foreach ($list as $a) {
        if ($a['account_id'] === $want) {
            $_SESSION['account'] = $a['account_id'];
            flash('ok', 'You are now acting on ' . $a['account_name'] . '.');
            redirect('/');
        }
    }
    throw new Http(403, 'Your login cannot act on that account.', 'Accounts');
}
$current = current_account();
ob_start();
?>
<p class="lead">The client accounts your login can act on. Switch to act on another one.</p>
<?php if ($list === []) { ?>
<p class="notice">Your login has no client account yet.</p>
<?php } else { ?>
<div class="table-wrap">
<table id="accounts">
<thead><tr><th>Account</th><th>Client account</th><th>Role</th><th>Permissions</th><th>Actions</th></tr></thead>
<tbody>
<?php foreach ($list as $a) { $here = $current !== null && $a['account_id'] === $current['account_id']; ?>
<tr>
<td data-label="Account"><?= h($a['account_name']) ?></td>
<td data-label="Client account"><?= h($a['account_id']) ?></td>
<td data-label="Role"><?= $a['role'] === 'owner' ? 'Owner' : 'Member' ?></td>
<td data-label="Permissions"><?= h(describe_permissions($a['permissions'])) ?></td>
<td data-label="Actions" class="actions"><?= $here ? '<span class="tag">Current</span>'
    : button_form('/accounts', 'Switch', ['account' => $a['account_id']]) ?></td>
</tr>
<?php } ?>
</tbody>
</table>
</div>
<?php } ?>
<?php
render('Accounts', (string) ob_get_clean());
