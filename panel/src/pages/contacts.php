<?php

declare(strict_types=1);

// Contacts (seed 003): people who receive the account's emails, without a login. "Add Contact"
// with names, email, phone and the notification settings; each row links to edit and delete.
// Access to the account itself always goes through a login: a contact is given one by an
// invite (on its edit page).

namespace Panel;

use Cohort\Exception\CohortException;

$acct = require_account();
$me = (string) me();
if (!can('contacts')) {
    throw new Http(403, 'You may not manage the contacts of ' . $acct['account_name']
        . ': that needs the permission "' . (perm_labels()['contacts'] ?? 'contacts') . '".', 'Contacts');
}
$c = cohort();
$f = contact_fields_blank();
$error = null;
if (is_post()) {
    $f = contact_fields_posted();
    try {
        $added = $c->addContact($me, $acct['account_id'], $f);
        flash('ok', 'Contact ' . trim($added['first_name'] . ' ' . $added['last_name']) . ' added.');
        redirect('/contacts');
    } catch (CohortException $e) {
        $error = refusal($e);
    }
}
$list = $c->contacts($acct['account_id']);
ob_start();
?>
<p class="lead">Contacts receive the emails you choose for them. To let a contact manage this account,
invite them as a user from their page.</p>
<div class="table-wrap">
<table id="contacts">
<thead><tr><th>Name</th><th>Email</th><th>Phone</th><th>Notifications</th><th>Actions</th></tr></thead>
<tbody>
<?php foreach ($list as $ct) { ?>
<tr>
<td data-label="Name"><?= h(trim($ct['first_name'] . ' ' . ($ct['last_name'] ?? ''))) ?></td>
<td data-label="Email"><?= h($ct['email']) ?></td>
<td data-label="Phone"><?= h($ct['phone'] ?? '') ?></td>
<td data-label="Notifications"><?= h(implode(', ', array_map(static fn ($k) => NOTIFY_KINDS[$k] ?? $k, $ct['notify'] ?? [])) ?: 'None') ?></td>
<td data-label="Actions" class="actions"><?= link_button('/contacts/edit', 'Edit', ['id' => $ct['id']]) ?><?= link_button('/contacts/delete', 'Delete', ['id' => $ct['id']], 'danger') ?></td>
</tr>
<?php } ?>
<?php if ($list === []) { ?><tr><td colspan="5">No contacts yet.</td></tr><?php } ?>
</tbody>
</table>
</div>

<h2>Add Contact</h2>
<?php if ($error !== null) { ?><p class="flash error" role="alert"><?= h($error) ?></p><?php } ?>
<form method="post" action="/contacts" class="card" id="add-contact">
<?= csrf_field() ?>
<?= contact_form_fields($f, 'add') ?>
<button type="submit">Add Contact</button>
</form>
<?php
render('Contacts', (string) ob_get_clean(), $error === null ? 200 : 422);
