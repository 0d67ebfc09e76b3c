<?cs # layout/foot.cs — closes the page opened by layout/head.cs. ?>
</main>
</div>
<footer class="footer"><span>BotCriptoFy</span> · <span class="muted"><?cs var:Lang.layout.request_id ?> <?cs var:req.request_id ?></span></footer>
</body>
</html>
