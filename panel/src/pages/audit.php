<?php

declare(strict_types=1);

// The account's audit trail, newest first: who changed what, the old and the new value. Owner only.

namespace Panel;

$acct = require_account();
if ($acct['role'] !== 'owner') {
    throw new Http(403, 'Only the owner of ' . $acct['account_name'] . ' may read its audit trail.', 'Audit');
}
$entries = array_reverse(cohort()->auditQuery(['account' => $acct['account_id'], 'limit' => 200]));
ob_start();
?>
<p class="lead">Every change to the users, invites and contacts of <?= h($acct['account_name']) ?>: the latest 200.</p>
<div class="table-wrap">
<table id="audit">
<thead><tr><th>When</th><th>Who</th><th>Action</th><th>About</th><th>Change (old, new)</th></tr></thead>
<tbody>
<?php foreach ($entries as $e) { ?>
<tr>
<td data-label="When" class="when"><?= h(fmt_time($e['at'])) ?></td>
<td data-label="Who"><?= h($e['actor']) ?></td>
<td data-label="Action"><code><?= h($e['action']) ?></code></td>
<td data-label="About"><?= h($e['target']) ?></td>
<td data-label="Change" class="value"><?php
    foreach (['Old' => $e['old_value'], 'New' => $e['new_value']] as $which => $value) {
        if ($value !== null && $value !== '') {
            echo '<div><span class="muted">', $which, ':</span> ', h($value), '</div>';
        }
    } ?></td>
</tr>
<?php } ?>
<?php if ($entries === []) { ?><tr><td colspan="5">Nothing yet.</td></tr><?php } ?>
</tbody>
</table>
</div>
<?php
render('Audit', (string) ob_get_clean());
