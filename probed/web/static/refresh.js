// Reload the status page every 60 s and keep the reader's scroll position across it.
(function(){var k="probed-scroll",y=sessionStorage.getItem(k);if(y!==null){sessionStorage.removeItem(k);scrollTo(0,+y)}
setTimeout(function(){sessionStorage.setItem(k,String(scrollY));location.reload()},60000)})();
