<?php

declare(strict_types=1);

// The dashboard: the current account, your role on it and what you may do there.

namespace Panel;

$a = current_account();
ob_start();
if ($a === null) {
    ?>
<p class="notice">Your login has no client account to act on yet. Open the link of an invitation,
or ask an account owner to invite you.</p>
<?php
} else {
    $links = [];
    if (can('users')) {
        $links['/users'] = 'User Management: invite users, manage their permissions, remove access';
    }
    if (can('contacts')) {
        $links['/contacts'] = 'Contacts: who receives which emails';
    }
    if ($a['role'] === 'owner') {
        $links['/audit'] = 'Audit: who changed what on this account';
    }
    $links['/accounts'] = 'Accounts: switch to another account your login can act on';
    ?>
<section class="card">
<h2><?= h($a['account_name']) ?></h2>
<dl class="facts">
<dt>Client account</dt><dd><?= h($a['account_id']) ?></dd>
<dt>Your role</dt><dd><?= $a['role'] === 'owner' ? 'Owner' : 'Member' ?></dd>
<dt>Your permissions</dt><dd><?= h(describe_permissions($a['permissions'])) ?></dd>
</dl>
</section>
<ul class="links">
<?php foreach ($links as $href => $text) { ?>
<li><a href="<?= h($href) ?>"><?= h($text) ?></a></li>
<?php } ?>
</ul>
<?php
}
render('Dashboard', (string) ob_get_clean());
